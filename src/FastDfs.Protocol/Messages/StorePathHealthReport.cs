namespace FastDfs.Protocol.Messages;

/// <summary>
/// FastDFS.NET's STORE_PATH_HEALTH (248), storage to tracker on its joined connection: <c>store_path_count u8</c> then
/// one byte per store path, 1 when that path's disk failed (unwritable, gone), else 0. The tracker then sends no reader
/// of that path's files to this storage while another member can serve them. Stock trackers answer EINVAL; the storage
/// then stops sending it to them.
/// </summary>
public sealed record StorePathHealthReport(IReadOnlyList<bool> Failed)
{
    public const FdfsCommand Command = (FdfsCommand)248;

    public int Size => 1 + Failed.Count;

    public byte[] ToArray()
    {
        if (Failed.Count is < 1 or > 256)
        {
            throw new ArgumentOutOfRangeException(nameof(Failed), Failed.Count, "1 to 256 store paths");
        }

        var bytes = new byte[Size];
        bytes[0] = (byte)(Failed.Count == 256 ? 0 : Failed.Count);
        for (int i = 0; i < Failed.Count; i++)
        {
            bytes[1 + i] = Failed[i] ? (byte)1 : (byte)0;
        }

        return bytes;
    }

    public static StorePathHealthReport Parse(ReadOnlySpan<byte> body)
    {
        if (body.Length < 2)
        {
            throw new ProtocolException($"STORE_PATH_HEALTH body of {body.Length} bytes");
        }

        int count = body[0] == 0 ? 256 : body[0];
        if (body.Length != 1 + count)
        {
            throw new ProtocolException($"STORE_PATH_HEALTH for {count} paths in {body.Length} bytes");
        }

        var failed = new bool[count];
        for (int i = 0; i < count; i++)
        {
            failed[i] = body[1 + i] switch
            {
                0 => false,
                1 => true,
                var other => throw new ProtocolException($"STORE_PATH_HEALTH flag {other} for store path {i}"),
            };
        }

        return new StorePathHealthReport(failed);
    }
}
