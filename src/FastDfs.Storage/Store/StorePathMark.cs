using System.Buffers.Binary;
using System.Text;
using FastDfs.Protocol.FileIds;

namespace FastDfs.Storage.Store;

/// <summary>
/// The store path mark of spec 15: FastDFS base64 of a 56-byte host-native record
/// (ip[46], port u16 LE, store_path_index u8, pad, create_time i32 LE), kept in
/// <c>&lt;store_path&gt;/data/.fastdfs_vars</c> and mirrored in <c>.data_init_flag</c>.
/// </summary>
internal static class StorePathMark
{
    public const string VarsFileName = ".fastdfs_vars";
    private const string Key = "store_path_mark";

    public static string Build(string ip, int port, int storePathIndex, long createTime)
    {
        Span<byte> record = stackalloc byte[56];
        record.Clear();
        Encoding.ASCII.GetBytes(ip.AsSpan(0, Math.Min(ip.Length, 45)), record);
        BinaryPrimitives.WriteUInt16LittleEndian(record[46..], (ushort)port);
        record[48] = (byte)storePathIndex;
        BinaryPrimitives.WriteInt32LittleEndian(record[52..], (int)createTime);
        return FdfsBase64.Encode(record);
    }

    public static string? Read(string storeDataDirectory)
    {
        var values = StateFile.TryRead(Path.Combine(storeDataDirectory, VarsFileName),
            $"delete it to have it written again from the mark that {DataInitFlag.FileName} records");
        return values is not null && values.TryGetValue(Key, out var mark) && mark.Length > 0 ? mark : null;
    }

    public static void Write(string storeDataDirectory, string mark)
    {
        StateFile.WriteAtomic(Path.Combine(storeDataDirectory, VarsFileName), [StateFile.Entry(Key, mark)]);
    }
}
