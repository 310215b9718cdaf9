namespace FastDfs.Protocol.Messages;

/// <summary>
/// FastDFS.NET-only tracker command (252): marks a storage as draining, or no longer. Request: <c>group[16]</c>,
/// <c>storage_id[16]</c>, <c>draining u8</c> (1 = drain, 0 = undrain). Reply: empty; ENOENT for an unknown group or
/// storage, EPERM for a caller that <c>admin_hosts</c> does not list. A draining storage receives no upload through the
/// tracker (QUERY_STORE never names it; a group whose members all drain takes none), keeps serving reads and the
/// changes of the files it is the source of, and the trackers say when every file it is the source of is on every other
/// serving member (<see cref="StorageSyncStatus.Draining"/>). A stock tracker answers EINVAL (or closes).
/// </summary>
public static class DrainStorage
{
    /// <summary>Command byte 252: unused by stock FastDFS.</summary>
    public const FdfsCommand Command = (FdfsCommand)252;

    public const int Size = ProtocolConstants.GroupNameMaxLen + ProtocolConstants.StorageIdMaxSize + 1;

    public static byte[] Request(string group, string storageId, bool draining)
    {
        var body = new byte[Size];
        FixedString.Write(body.AsSpan(0, ProtocolConstants.GroupNameMaxLen), group);
        FixedString.Write(body.AsSpan(ProtocolConstants.GroupNameMaxLen, ProtocolConstants.StorageIdMaxSize), storageId);
        body[^1] = draining ? (byte)1 : (byte)0;
        return body;
    }

    public static (string Group, string StorageId, bool Draining) ParseRequest(ReadOnlySpan<byte> body)
    {
        if (body.Length != Size || body[^1] > 1)
        {
            throw new ProtocolException($"DRAIN_STORAGE body of {body.Length} bytes");
        }

        return (FixedString.Read(body[..ProtocolConstants.GroupNameMaxLen]),
            FixedString.Read(body.Slice(ProtocolConstants.GroupNameMaxLen, ProtocolConstants.StorageIdMaxSize)), body[^1] == 1);
    }
}

/// <summary>A draining storage as the tracker sees it: since when, and the members that still lack some of its files
/// (empty: every file it is the source of is on every other serving member).</summary>
/// <param name="Since">Unix seconds of the drain command</param>
/// <param name="WaitingFor">the members still behind, each with how many seconds of the storage's changes it lacks</param>
public sealed record DrainState(long Since, IReadOnlyList<(string Id, long BehindSeconds)> WaitingFor)
{
    public bool Complete => WaitingFor.Count == 0;
}
