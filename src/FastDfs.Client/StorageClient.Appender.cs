using FastDfs.Client.Connections;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Messages;

namespace FastDfs.Client;

/// <summary>Appender-file commands: append, modify, truncate, regenerate the name.</summary>
public sealed partial class StorageClient
{
    /// <summary>Appends <paramref name="length"/> bytes of <paramref name="content"/> to an appender file (APPEND_FILE).</summary>
    public Task AppendAsync(FileId appender, Stream content, long length, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var request = new AppendFileRequest(appender.LogicName, length);
        return Pool.ExecuteAsync(async (c, token) =>
        {
            var header = new byte[request.HeaderSize];
            request.Write(header);
            c.WriteRequest(FdfsCommand.AppendFile, header, header.Length + length);
            await c.WriteBodyAsync(content, length, token).ConfigureAwait(false);
            return await ReadEmptyReplyAsync(c, token).ConfigureAwait(false);
        }, RetryPolicy.IfNothingSent, ct, content).AsTask();
    }

    /// <summary>Overwrites part of an appender file at <paramref name="offset"/> (≤ current size) (MODIFY_FILE).</summary>
    public Task ModifyAsync(FileId appender, long offset, Stream content, long length, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var request = new ModifyFileRequest(appender.LogicName, offset, length);
        return Pool.ExecuteAsync(async (c, token) =>
        {
            var header = new byte[request.HeaderSize];
            request.Write(header);
            c.WriteRequest(FdfsCommand.ModifyFile, header, header.Length + length);
            await c.WriteBodyAsync(content, length, token).ConfigureAwait(false);
            return await ReadEmptyReplyAsync(c, token).ConfigureAwait(false);
        }, RetryPolicy.IfNothingSent, ct, content).AsTask();
    }

    /// <summary>Sets an appender file's size to <paramref name="newSize"/>, cutting or zero-extending (TRUNCATE_FILE).</summary>
    public Task TruncateAsync(FileId appender, long newSize = 0, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(newSize);
        var request = new TruncateFileRequest(appender.LogicName, newSize);
        var body = new byte[request.Size];
        request.Write(body);
        return ExchangeAsync(FdfsCommand.TruncateFile, body, 0, ct);
    }

    /// <summary>Turns an appender file into a normal file under a new name (REGENERATE_APPENDER_FILENAME).</summary>
    public Task<FileId> RegenerateAppenderFilenameAsync(FileId appender, CancellationToken ct = default)
    {
        byte[] body = AppenderName(appender);
        return Pool.ExecuteAsync(async (c, token) =>
        {
            c.WriteRequest(FdfsCommand.RegenerateAppenderFilename, body);
            await c.FlushAsync(token).ConfigureAwait(false);
            return await ReadFileIdAsync(c, token).ConfigureAwait(false);
        }, RetryPolicy.IfNothingSent, ct).AsTask();
    }

    private static async ValueTask<bool> ReadEmptyReplyAsync(Connections.FastDfsConnection c, CancellationToken ct)
    {
        long length = await c.ReadResponseAsync(ct).ConfigureAwait(false);
        await c.ReadBodyAsync(length, 0, ct).ConfigureAwait(false);
        return true;
    }
}
