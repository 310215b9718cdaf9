using System.Buffers.Binary;
using FastDfs.Protocol;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;
using Microsoft.Win32.SafeHandles;
using C = FastDfs.Protocol.Messages.StorageStatCounters.Counter;

namespace FastDfs.Storage.Session;

/// <summary>DOWNLOAD_FILE (14), spec 5.3: the range is streamed from disk in chunks with back-pressure.</summary>
internal sealed partial class StorageSession
{
    /// <summary>Ranges from this size on are sent with sendfile; smaller ones are copied with their header.</summary>
    private const int SendFileMinimum = 128 * 1024;

    /// <summary>
    /// The first bytes of a sendfile range are copied behind the reply header, so the header never leaves alone in a
    /// segment of its own (with a lone header, single-client 64 KB download streams stalled by milliseconds now and then:
    /// docs/benchmarks.md).
    /// </summary>
    private const int SendFileHead = 64 * 1024;

    /// <summary>
    /// The last bytes of a sendfile range are copied as well: with sendfile up to the end, 1 MB downloads of one client
    /// waited about 2.5 ms for the reply's end in one request of ten under BBR (the common default congestion control;
    /// copying the last 256 KB removed the wait, 128 KB did not: docs/benchmarks.md).
    /// </summary>
    private const int SendFileTail = 256 * 1024;

    private async ValueTask<byte> DownloadAsync(PacketHeader request)
    {
        var body = await ReadSmallBodyAsync(request, DownloadFileRequest.FixedSize + 1).ConfigureAwait(false);
        long offset = BinaryPrimitives.ReadInt64BigEndian(body.Span);
        long length = BinaryPrimitives.ReadInt64BigEndian(body.Span[8..]);
        string name = FixedString.ReadCString(body.Span[DownloadFileRequest.FixedSize..]);
        CheckGroupOfStoredFile(body.Span.Slice(16, ProtocolConstants.GroupNameMaxLen), name);
        var target = Resolve(name);
        if (offset < 0 || length < 0)
        {
            throw new ProtocolException("negative download offset or length");
        }

        if (_ctx.Trunk.IsTrunkName(target.LogicName, out _))
        {
            return await DownloadTrunkAsync(target.LogicName, offset, length).ConfigureAwait(false);
        }

        Count(C.TotalDownloadCount);
        SafeFileHandle? handle = null;
        try
        {
            long count;
            // Inside the path's disk gate: the stat, the open and a small read (a large range goes out with sendfile after).
            using (await EnterDiskAsync(target.Stored.StorePathIndex).ConfigureAwait(false))
            {
                // File.Exists is false for a directory: one stat call on the common path, a second only on a miss.
                if (!File.Exists(target.FullPath))
                {
                    return Directory.Exists(target.FullPath) ? Errno.EISDIR : Errno.ENOENT;
                }

                Count(C.TotalFileOpenCount);
                // Asynchronous: SendPacketsElement (sendfile) takes only such handles; reads stay plain pread.
                handle = File.OpenHandle(target.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
                Count(C.SuccessFileOpenCount);
                long size = RandomAccess.GetLength(handle);
                // Stock refuses any offset on a 0-byte file; we serve it as an empty file (docs/configuration.md, "Where FastDFS.NET differs from stock").
                if (offset > size || (offset == size && size != 0))
                {
                    throw new ProtocolException($"download offset {offset} beyond size {size}");
                }

                count = size - offset;
                if (length > 0 && length < count)
                {
                    count = length;
                }

                if (count < SendFileMinimum)
                {
                    await SendFileRangeAsync(handle, offset, count, target.LogicName).ConfigureAwait(false);
                    return Errno.Ok;
                }
            }

            await SendFileRangeAsync(handle, offset, count, target.LogicName).ConfigureAwait(false);
            return Errno.Ok;
        }
        finally
        {
            handle?.Dispose();
        }
    }

    /// <summary>
    /// Sends a success header for <paramref name="count"/> bytes, then that range of the file. Shared by
    /// plain files and trunk slots (whose range starts after the slot header). From
    /// <see cref="SendFileMinimum"/> bytes on, the range goes from the page cache to the socket with
    /// <c>sendfile</c> once the header is on the socket, but for its first <see cref="SendFileHead"/> and last
    /// <see cref="SendFileTail"/> bytes, which are copied; a smaller one is read into the same output buffer as its
    /// header and leaves in one send.
    /// </summary>
    private async ValueTask SendFileRangeAsync(SafeFileHandle handle, long position, long count, string logicName)
    {
        Count(C.TotalDownloadBytes, count);
        _replyBodyLength = count;
        if (count >= SendFileMinimum)
        {
            Count(C.TotalFileReadCount);
            CopyWithHeader(handle, position, SendFileHead, count, logicName);
            long tail = Math.Min(SendFileTail, count - SendFileHead);
            long middle = count - SendFileHead - tail;
            if (middle > 0)
            {
                await _connection.SendFileAsync(handle, position + SendFileHead, middle, _frames.Progress, Token).ConfigureAwait(false);
            }

            CopyRange(handle, position + count - tail, (int)tail, logicName);
            Count(C.SuccessFileReadCount);
        }
        else
        {
            Count(C.TotalFileReadCount);
            CopyWithHeader(handle, position, (int)count, count, logicName);
            Count(C.SuccessFileReadCount);
        }

        Count(C.SuccessDownloadCount);
        Count(C.SuccessDownloadBytes, count);
    }

    /// <summary>Writes the success header for <paramref name="total"/> bytes and the first <paramref name="length"/> of them, read from the file, into the output.</summary>
    private void CopyWithHeader(SafeFileHandle handle, long position, int length, long total, string logicName)
    {
        var memory = _output.GetMemory(ProtocolConstants.HeaderSize + length);
        PacketHeader.Response(total).WriteTo(memory.Span);
        ReadExactly(handle, memory.Span.Slice(ProtocolConstants.HeaderSize, length), position, logicName);
        _output.Advance(ProtocolConstants.HeaderSize + length);
    }

    /// <summary>Writes <paramref name="length"/> bytes of the file from <paramref name="position"/> into the output.</summary>
    private void CopyRange(SafeFileHandle handle, long position, int length, string logicName)
    {
        var memory = _output.GetMemory(length);
        ReadExactly(handle, memory.Span[..length], position, logicName);
        _output.Advance(length);
    }

    private static void ReadExactly(SafeFileHandle handle, Span<byte> destination, long position, string logicName)
    {
        int read = destination.IsEmpty ? 0 : RandomAccess.Read(handle, destination, position);
        if (read != destination.Length)
        {
            throw new ProtocolException($"{logicName} shrank to {read} of {destination.Length} bytes while read", Errno.EIO);
        }
    }
}
