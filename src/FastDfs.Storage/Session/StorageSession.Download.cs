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
    private async ValueTask<byte> DownloadAsync(PacketHeader request)
    {
        var body = await ReadSmallBodyAsync(request, DownloadFileRequest.FixedSize + 1).ConfigureAwait(false);
        long offset = BinaryPrimitives.ReadInt64BigEndian(body.Span);
        long length = BinaryPrimitives.ReadInt64BigEndian(body.Span[8..]);
        CheckGroup(body.Span.Slice(16, ProtocolConstants.GroupNameMaxLen));
        var target = Resolve(FixedString.ReadCString(body.Span[DownloadFileRequest.FixedSize..]));
        if (offset < 0 || length < 0)
        {
            throw new ProtocolException("negative download offset or length");
        }

        if (_ctx.Trunk.IsTrunkName(target.LogicName, out _))
        {
            return await DownloadTrunkAsync(target.LogicName, offset, length).ConfigureAwait(false);
        }

        Count(C.TotalDownloadCount);
        // File.Exists is false for a directory: one stat call on the common path, a second only on a miss.
        if (!File.Exists(target.FullPath))
        {
            return Directory.Exists(target.FullPath) ? Errno.EISDIR : Errno.ENOENT;
        }

        Count(C.TotalFileOpenCount);
        using var handle = File.OpenHandle(target.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Count(C.SuccessFileOpenCount);
        long size = RandomAccess.GetLength(handle);
        // Stock refuses any offset on a 0-byte file; we serve it as an empty file (STOCK-NOTES).
        if (offset > size || (offset == size && size != 0))
        {
            throw new ProtocolException($"download offset {offset} beyond size {size}");
        }

        long count = size - offset;
        if (length > 0 && length < count)
        {
            count = length;
        }

        await SendFileRangeAsync(handle, offset, count, target.LogicName).ConfigureAwait(false);
        return Errno.Ok;
    }

    /// <summary>
    /// Sends a success header for <paramref name="count"/> bytes, then that range of the file read straight
    /// into the output pipe's memory chunk by chunk (no intermediate buffer), honouring back-pressure.
    /// Shared by plain files and trunk slots (whose range starts after the slot header).
    /// </summary>
    private async ValueTask SendFileRangeAsync(SafeFileHandle handle, long position, long count, string logicName)
    {
        Count(C.TotalDownloadBytes, count);
        _output.WriteResponseHeader(count);
        long left = count;
        while (left > 0)
        {
            int want = (int)Math.Min(DownloadChunkSize, left);
            var memory = _output.GetMemory(want);
            Count(C.TotalFileReadCount);
            int read = RandomAccess.Read(handle, memory.Span[..Math.Min(want, memory.Length)], position);
            if (read <= 0)
            {
                // The file shrank under us after the header went out: the client cannot be told, drop it.
                throw new EndOfStreamException($"{logicName} shrank during download");
            }

            Count(C.SuccessFileReadCount);
            _output.Advance(read);
            position += read;
            left -= read;
            RefreshTimeout();
            await _output.FlushAsync(Token).ConfigureAwait(false);
        }

        Count(C.SuccessDownloadCount);
        Count(C.SuccessDownloadBytes, count);
    }
}
