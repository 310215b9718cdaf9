namespace FastDfs.Storage.Trunk;

/// <summary>
/// Trunk space allocation for a group. The trunk server implements it locally (<see cref="TrunkSpaceManager"/>);
/// the other members will implement it as a client of the trunk server speaking TRUNK_ALLOC_SPACE (27),
/// TRUNK_ALLOC_CONFIRM (28) and TRUNK_FREE_SPACE (29) (spec 7.9), whose bodies carry exactly these values.
/// </summary>
internal interface ITrunkSpaceAllocator
{
    /// <summary>
    /// Reserves a slot for <paramref name="slotBytes"/> bytes (file size + 24, as TRUNK_ALLOC_SPACE sends it) in
    /// a trunk file of store path <paramref name="storePathIndex"/>; the slot stays reserved until confirmed.
    /// </summary>
    ValueTask<TrunkBlock> AllocateAsync(int storePathIndex, int slotBytes, CancellationToken cancellationToken);

    /// <summary>Confirms a reserved slot (the upload succeeded) or gives it back (it failed).</summary>
    ValueTask ConfirmAsync(TrunkBlock slot, bool succeeded, CancellationToken cancellationToken);

    /// <summary>Returns the slot of a deleted file to the free space.</summary>
    ValueTask FreeAsync(TrunkBlock slot, CancellationToken cancellationToken);
}

/// <summary>
/// Where new trunk file ids come from: <see cref="TrunkFileIdSequence"/> (the tracker's sequence, FETCH_TRUNK_FID 72
/// and REPORT_TRUNK_FID 73, ids reserved before use; kept in <c>.data_init_flag</c> as <c>current_trunk_file_id</c>).
/// </summary>
internal interface ITrunkFileIdSequence
{
    /// <summary>The next unused trunk file id (strictly increasing).</summary>
    ValueTask<int> NextAsync(CancellationToken cancellationToken);
}

/// <summary>Who allocates trunk space for this storage's group right now.</summary>
internal enum TrunkServerRole
{
    /// <summary>Not known yet (no group list from the tracker): trunk-eligible uploads become normal files.</summary>
    Unknown,

    /// <summary>This storage is the group's trunk server and allocates locally.</summary>
    Self,

    /// <summary>Another member is the trunk server (allocation over the network, next slice).</summary>
    Remote,
}

/// <summary>Resolves the group's trunk server (spec 13). The tracker-cluster slice owns the election and flag 2.</summary>
internal interface ITrunkServerLocator
{
    TrunkServerRole Resolve();
}

/// <summary>
/// Trunk space figures for <c>fdfs monitor</c> and the metrics (all bytes). Used + Free + Pending = Total.
/// <see cref="DiskBytes"/> is what the trunk files really occupy on disk; <see cref="ReclaimableBytes"/> estimates
/// the free bytes still holding disk blocks (DiskBytes - Used, at least 0); <see cref="ReclaimedBytes"/> counts
/// the bytes handed back to the file system by hole punching since start.
/// </summary>
internal sealed record TrunkStats(
    int TrunkFileCount,
    long TotalBytes,
    long UsedBytes,
    long FreeBytes,
    long PendingBytes,
    long DiskBytes,
    long ReclaimableBytes,
    long ReclaimedBytes,
    bool HolePunchingSupported)
{
    public static readonly TrunkStats Empty = new(0, 0, 0, 0, 0, 0, 0, 0, SparseFile.PunchSupported);
}
