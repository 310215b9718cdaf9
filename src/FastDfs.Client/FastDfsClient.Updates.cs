using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Client;

/// <summary>Metadata, appender-file and monitoring operations.</summary>
public sealed partial class FastDfsClient
{
    /// <summary>Sets metadata: <see cref="MetadataOp.Overwrite"/> replaces all items, <see cref="MetadataOp.Merge"/> updates/adds.</summary>
    public Task SetMetadataAsync(FileId fileId, IEnumerable<MetadataItem> metadata, MetadataOp op = MetadataOp.Overwrite, CancellationToken ct = default) =>
        ObserveAsync("set_metadata", fileId, async () =>
        {
            var target = await Tracker.QueryUpdateAsync(fileId, ct).ConfigureAwait(false);
            await GetStorage(target).SetMetadataAsync(fileId, metadata, op, ct).ConfigureAwait(false);
            return true;
        });

    /// <summary>Reads a file's metadata (sorted by name); ENOENT when it has none.</summary>
    public Task<IReadOnlyList<MetadataItem>> GetMetadataAsync(FileId fileId, CancellationToken ct = default) =>
        ObserveAsync("get_metadata", fileId, async () =>
        {
            var source = await Tracker.QueryFetchAsync(fileId, ct).ConfigureAwait(false);
            return await GetStorage(source).GetMetadataAsync(fileId, ct).ConfigureAwait(false);
        });

    /// <summary>Appends to an appender file.</summary>
    public Task AppendAsync(FileId appender, Stream content, long length, CancellationToken ct = default) =>
        ObserveAsync("append", appender, async () =>
        {
            var target = await Tracker.QueryUpdateAsync(appender, ct).ConfigureAwait(false);
            await GetStorage(target).AppendAsync(appender, content, length, ct).ConfigureAwait(false);
            return true;
        }, uploaded: length);

    /// <summary>Appends a byte array to an appender file.</summary>
    public Task AppendAsync(FileId appender, byte[] content, CancellationToken ct = default) =>
        AppendAsync(appender, new MemoryStream(content, writable: false), content.LongLength, ct);

    /// <summary>Overwrites part of an appender file at <paramref name="offset"/>.</summary>
    public Task ModifyAsync(FileId appender, long offset, Stream content, long length, CancellationToken ct = default) =>
        ObserveAsync("modify", appender, async () =>
        {
            var target = await Tracker.QueryUpdateAsync(appender, ct).ConfigureAwait(false);
            await GetStorage(target).ModifyAsync(appender, offset, content, length, ct).ConfigureAwait(false);
            return true;
        }, uploaded: length);

    /// <summary>Truncates (or zero-extends) an appender file to <paramref name="newSize"/>.</summary>
    public Task TruncateAsync(FileId appender, long newSize = 0, CancellationToken ct = default) =>
        ObserveAsync("truncate", appender, async () =>
        {
            var target = await Tracker.QueryUpdateAsync(appender, ct).ConfigureAwait(false);
            await GetStorage(target).TruncateAsync(appender, newSize, ct).ConfigureAwait(false);
            return true;
        });

    /// <summary>Turns an appender file into a normal file; returns its new ID.</summary>
    public Task<FileId> RegenerateAppenderFilenameAsync(FileId appender, CancellationToken ct = default) =>
        ObserveAsync("regenerate_filename", appender, async () =>
        {
            var target = await Tracker.QueryUpdateAsync(appender, ct).ConfigureAwait(false);
            return await GetStorage(target).RegenerateAppenderFilenameAsync(appender, ct).ConfigureAwait(false);
        });

    /// <summary>All groups with their stats.</summary>
    public Task<IReadOnlyList<GroupStat>> ListGroupsAsync(CancellationToken ct = default) => ObserveAsync("list_groups", null, () => Tracker.ListGroupsAsync(ct));

    /// <summary>The storages of a group with their stats and counters.</summary>
    public Task<IReadOnlyList<StorageStat>> ListStoragesAsync(string group, string? storageId = null, CancellationToken ct = default) =>
        ObserveAsync("list_storages", null, () => Tracker.ListStoragesAsync(group, storageId, ct));
}
