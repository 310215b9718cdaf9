using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Framing;
using FastDfs.Protocol.Messages;
using Microsoft.Win32.SafeHandles;

namespace FastDfs.Storage.Session;

/// <summary>FETCH_FILES (250): many whole files in one reply, for a member recovering a disk (FastDFS.NET peers only).</summary>
internal sealed partial class StorageSession
{
    private async ValueTask<byte> FetchFilesAsync(PacketHeader request)
    {
        var fetch = FetchFilesRequest.Parse((await ReadSmallBodyAsync(request, ProtocolConstants.GroupNameMaxLen + 2).ConfigureAwait(false)).Span);
        CheckGroup(fetch.Group);
        foreach (string name in fetch.Names)
        {
            if (StoredFilePath.TryParse(name, _ctx.Paths.Count, out var stored) && _ctx.Paths[stored.StorePathIndex].OutOfServiceReason is { } failure)
            {
                // A file missing from an out-of-service path is not a file that is gone: ask another member.
                throw new ProtocolException($"store path {stored.StorePathIndex} is out of service here: {failure}", Errno.EAGAIN);
            }
        }

        var files = new (SafeFileHandle? Handle, long Size)[fetch.Names.Count];
        try
        {
            // Every file is opened (and sized) before the reply's length is written; one that is gone is answered ENOENT.
            long total = 0;
            for (int i = 0; i < files.Length; i++)
            {
                files[i] = Open(fetch.Names[i]);
                total += FetchFilesRequest.EntryHeaderSize + files[i].Size;
            }

            _output.WriteResponseHeader(total);
            foreach (var (handle, size) in files)
            {
                var entry = _output.GetSpan(FetchFilesRequest.EntryHeaderSize);
                entry[0] = handle is null ? Errno.ENOENT : Errno.Ok;
                System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(entry[1..], size);
                _output.Advance(FetchFilesRequest.EntryHeaderSize);
                if (handle is not null && size > 0)
                {
                    // A file that shrinks meanwhile cannot complete the reply: the connection is dropped and the caller asks again.
                    await _connection.SendFileAsync(handle, 0, size, _frames.Progress, Token).ConfigureAwait(false);
                    Count(Protocol.Messages.StorageStatCounters.Counter.TotalSyncOutBytes, size);
                }
            }

            return Errno.Ok;
        }
        finally
        {
            foreach (var (handle, _) in files)
            {
                handle?.Dispose();
            }
        }
    }

    /// <summary>A stored file opened for sendfile with its size, or (null, 0) when it is not here (or is trunk-stored).</summary>
    private (SafeFileHandle? Handle, long Size) Open(string logicName)
    {
        if (!StoredFilePath.TryParse(logicName, _ctx.Paths.Count, out var stored) || _ctx.Trunk.IsTrunkName(logicName, out _))
        {
            return (null, 0);
        }

        try
        {
            var handle = File.OpenHandle(_ctx.Paths.FullPath(stored), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
                FileOptions.Asynchronous);
            return (handle, RandomAccess.GetLength(handle));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            return (null, 0);
        }
    }
}
