using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Client;

/// <summary>
/// The file operations of <see cref="FastDfsClient"/>, for injection and mocking (<see cref="FastDfsServiceCollectionExtensions.AddFastDfs(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{FastDfsOptions})"/>
/// registers the client under this interface). Every member behaves as the <see cref="FastDfsClient"/> member of the same name.
/// </summary>
public interface IFastDfsClient
{
    /// <summary>Uploads <paramref name="length"/> bytes of <paramref name="content"/>; sets <paramref name="metadata"/> afterwards when given.</summary>
    /// <param name="ext">extension without the dot (a leading dot is removed), null for none</param>
    /// <param name="group">target group, or null to let the tracker choose</param>
    Task<FileId> UploadAsync(Stream content, long length, string? ext = null, IEnumerable<MetadataItem>? metadata = null, string? group = null, CancellationToken ct = default);

    /// <summary>Uploads the rest of a seekable stream.</summary>
    Task<FileId> UploadAsync(Stream content, string? ext = null, IEnumerable<MetadataItem>? metadata = null, string? group = null, CancellationToken ct = default);

    /// <summary>Uploads a byte array.</summary>
    Task<FileId> UploadAsync(byte[] content, string? ext = null, IEnumerable<MetadataItem>? metadata = null, string? group = null, CancellationToken ct = default);

    /// <summary>Uploads a local file; the extension defaults to the file's own.</summary>
    Task<FileId> UploadFileAsync(string path, string? ext = null, IEnumerable<MetadataItem>? metadata = null, string? group = null, bool appender = false, CancellationToken ct = default);

    /// <summary>Uploads an appender file (can later be appended to, modified, truncated).</summary>
    Task<FileId> UploadAppenderAsync(Stream content, long length, string? ext = null, IEnumerable<MetadataItem>? metadata = null, string? group = null, CancellationToken ct = default);

    /// <summary>Uploads a slave file of <paramref name="master"/> on the master's storage.</summary>
    Task<FileId> UploadSlaveAsync(FileId master, string prefix, string? ext, Stream content, long length, IEnumerable<MetadataItem>? metadata = null, CancellationToken ct = default);

    /// <summary>Downloads a file (or a range: <paramref name="length"/> 0 = to the end) into <paramref name="destination"/>; returns the bytes written.</summary>
    Task<long> DownloadAsync(FileId fileId, Stream destination, long offset = 0, long length = 0, CancellationToken ct = default);

    /// <summary>Opens a read-only stream over a file's content (or a range of it).</summary>
    Task<Stream> OpenReadAsync(FileId fileId, long offset = 0, long length = 0, CancellationToken ct = default);

    /// <summary>Downloads a (small) file into memory.</summary>
    Task<byte[]> DownloadBytesAsync(FileId fileId, long offset = 0, long length = 0, CancellationToken ct = default);

    /// <summary>Downloads into a local file (no partial file is left on failure).</summary>
    Task<long> DownloadToFileAsync(FileId fileId, string path, long offset = 0, long length = 0, CancellationToken ct = default);

    /// <summary>Deletes a file and its metadata.</summary>
    Task DeleteAsync(FileId fileId, CancellationToken ct = default);

    /// <summary>File attributes like fdfs_file_info.</summary>
    Task<FastDfsFileInfo> GetFileInfoAsync(FileId fileId, CancellationToken ct = default);

    /// <summary>Sets metadata: <see cref="MetadataOp.Overwrite"/> replaces all items, <see cref="MetadataOp.Merge"/> updates/adds.</summary>
    Task SetMetadataAsync(FileId fileId, IEnumerable<MetadataItem> metadata, MetadataOp op = MetadataOp.Overwrite, CancellationToken ct = default);

    /// <summary>Reads a file's metadata (sorted by name).</summary>
    Task<IReadOnlyList<MetadataItem>> GetMetadataAsync(FileId fileId, CancellationToken ct = default);

    /// <summary>Appends to an appender file.</summary>
    Task AppendAsync(FileId appender, Stream content, long length, CancellationToken ct = default);

    /// <summary>Appends a byte array to an appender file.</summary>
    Task AppendAsync(FileId appender, byte[] content, CancellationToken ct = default);

    /// <summary>Overwrites part of an appender file at <paramref name="offset"/>.</summary>
    Task ModifyAsync(FileId appender, long offset, Stream content, long length, CancellationToken ct = default);

    /// <summary>Truncates (or zero-extends) an appender file to <paramref name="newSize"/>.</summary>
    Task TruncateAsync(FileId appender, long newSize = 0, CancellationToken ct = default);

    /// <summary>Turns an appender file into a normal file; returns its new ID.</summary>
    Task<FileId> RegenerateAppenderFilenameAsync(FileId appender, CancellationToken ct = default);

    /// <summary>The HTTP URL of a file, with an anti-steal token when the options have the servers' secret key (no server is asked).</summary>
    Uri GetHttpUrl(FileId fileId, DateTimeOffset? expires = null);

    /// <summary>All groups with their stats.</summary>
    Task<IReadOnlyList<GroupStat>> ListGroupsAsync(CancellationToken ct = default);

    /// <summary>The storages of a group with their stats and counters.</summary>
    Task<IReadOnlyList<StorageStat>> ListStoragesAsync(string group, string? storageId = null, CancellationToken ct = default);

    /// <summary>Every file of a group within a path (<c>M00</c>, <c>M00/3A</c>, <c>M00/3A/0C</c>), in name order, paged (FastDFS.NET storages).</summary>
    IAsyncEnumerable<ListedFile> ListFilesAsync(string group, string path = "", ListFilesOptions options = ListFilesOptions.None, CancellationToken ct = default);
}
