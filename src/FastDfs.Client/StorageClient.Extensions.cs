using FastDfs.Protocol;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client;

/// <summary>
/// FastDFS.NET-only storage queries: the built-in HTTP port (<see cref="HttpPortQuery"/>), the trunk space
/// (<see cref="TrunkSpaceQuery"/>), the integrity report (<see cref="IntegrityQuery"/>) and starting a scrub
/// (<see cref="ScrubStart"/>). A stock storage refuses them (EINVAL, <see cref="FastDfsException"/>).
/// </summary>
public sealed partial class StorageClient
{
    /// <summary>The HTTP port the storage serves files on (0 = HTTP off).</summary>
    public Task<int> QueryHttpPortAsync(CancellationToken ct = default) =>
        QueryAsync(HttpPortQuery.Command, HttpPortQuery.ResponseSize, static body => HttpPortQuery.ParseResponse(body), ct);

    /// <summary>How the storage's trunk files are used; a storage without trunk files answers ENOENT.</summary>
    public Task<TrunkSpace> QueryTrunkSpaceAsync(CancellationToken ct = default) =>
        QueryAsync(TrunkSpaceQuery.Command, TrunkSpaceQuery.ResponseSize, static body => TrunkSpaceQuery.ParseResponse(body), ct);

    /// <summary>What the storage found and repaired: checked replication, the scrub, anti-entropy, recent findings.</summary>
    public async Task<IntegrityStatus> QueryIntegrityAsync(CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(IntegrityQuery.Command, [], 64 * 1024, ct).ConfigureAwait(false);
        try
        {
            return IntegrityStatus.Parse(body);
        }
        catch (ProtocolException ex)
        {
            throw new FastDfsProtocolException(Endpoint, ex.Message, ex);
        }
    }

    /// <summary>
    /// Starts a scrub pass now, or joins the running one; <paramref name="bytesPerSecond"/>: 0 = the storage's
    /// <c>scrub_rate</c>, -1 = unlimited. Returns the <see cref="IntegrityStatus.ScrubPasses"/> value that marks the pass done.
    /// </summary>
    public async Task<long> StartScrubAsync(long bytesPerSecond = 0, CancellationToken ct = default)
    {
        var request = new byte[ScrubStart.RequestSize];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(request, bytesPerSecond);
        byte[] body = await ExchangeAsync(ScrubStart.Command, request, ScrubStart.ResponseSize, ct).ConfigureAwait(false);
        return body.Length == ScrubStart.ResponseSize
            ? System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(body)
            : throw new FastDfsProtocolException(Endpoint, $"SCRUB_START answer of {body.Length} bytes");
    }

    /// <summary>
    /// One page of the files this storage holds (LIST_FILES, FastDFS.NET), in logic-name order after
    /// <paramref name="cursor"/> (empty = from the start), within <paramref name="prefix"/> (empty, <c>M00</c>,
    /// <c>M00/3A</c> or <c>M00/3A/0C</c>). The next cursor is empty when the listing is complete.
    /// </summary>
    public async Task<(IReadOnlyList<ListedFile> Files, string NextCursor)> ListFilesAsync(string group, string prefix = "", string cursor = "",
        ListFilesOptions options = ListFilesOptions.None, int maxEntries = 1000, CancellationToken ct = default)
    {
        byte[] body = await ExchangeAsync(ListFiles.Command, ListFiles.Request(group, options, maxEntries, prefix, cursor), 4 * 1024 * 1024, ct)
            .ConfigureAwait(false);
        try
        {
            return ListFiles.ParseResponse(body);
        }
        catch (ProtocolException ex)
        {
            throw new FastDfsProtocolException(Endpoint, ex.Message, ex);
        }
    }

    /// <summary>Every file this storage holds within <paramref name="prefix"/>, page after page (see <see cref="ListFilesAsync"/>).</summary>
    public async IAsyncEnumerable<ListedFile> ListAllFilesAsync(string group, string prefix = "", ListFilesOptions options = ListFilesOptions.None,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        string cursor = string.Empty;
        do
        {
            var (files, next) = await ListFilesAsync(group, prefix, cursor, options, 1000, ct).ConfigureAwait(false);
            foreach (var file in files)
            {
                yield return file;
            }

            cursor = next;
        }
        while (cursor.Length > 0);
    }

    /// <summary>
    /// Stores <paramref name="size"/> bytes of <paramref name="content"/> on this storage (of <paramref name="group"/>)
    /// under <paramref name="logicName"/>, a file of <paramref name="sourceGroup"/> being moved (IMPORT_FILE, FastDFS.NET:
    /// see <see cref="ImportFile"/>). <paramref name="metadata"/> is stock's packed form (<c>key\x02value\x01...</c>), empty
    /// for none; <paramref name="crc32"/> is the content's, checked before the file is stored. Importing again the same
    /// content succeeds without a change. A refusal throws <see cref="FastDfsException"/> with the storage's status
    /// (EEXIST: another file under the name; EIO: the CRC32 does not match; EINVAL: a name it cannot hold; EPERM: not allowed).
    /// </summary>
    public Task ImportFileAsync(string group, string sourceGroup, string logicName, ReadOnlyMemory<byte> metadata, Stream content, long size,
        uint crc32, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(metadata.Length, ProtocolConstants.MaxImportMetadataLength);
        byte[] head = ImportFile.RequestHead(group, sourceGroup, logicName, metadata.Span, size, crc32);
        return Pool.ExecuteAsync(async (c, token) =>
        {
            c.WriteRequest(ImportFile.Command, head, head.Length + size);
            await c.WriteBodyAsync(content, size, token).ConfigureAwait(false);
            return await ReadEmptyReplyAsync(c, token).ConfigureAwait(false);
        }, Connections.RetryPolicy.IfNothingSent, ct, content).AsTask();
    }

    /// <summary>An empty request and a fixed-size answer decoded by <paramref name="parse"/>.</summary>
    private async Task<T> QueryAsync<T>(FdfsCommand command, int responseSize, Func<byte[], T> parse, CancellationToken ct)
    {
        byte[] body = await ExchangeAsync(command, [], responseSize, ct).ConfigureAwait(false);
        try
        {
            return parse(body);
        }
        catch (ProtocolException ex)
        {
            throw new FastDfsProtocolException(Endpoint, ex.Message, ex);
        }
    }
}
