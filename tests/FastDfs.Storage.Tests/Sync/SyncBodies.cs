using System.Buffers.Binary;
using System.Text;
using FastDfs.Protocol;

namespace FastDfs.Storage.Tests.Sync;

/// <summary>Storage-to-storage request bodies (spec 7) for the receiver tests.</summary>
internal static class SyncBodies
{
    private static readonly byte[] Group = Fixed(TestStorage.Group, 16);

    private static byte[] Fixed(string text, int size)
    {
        var field = new byte[size];
        Encoding.ASCII.GetBytes(text).CopyTo(field, 0);
        return field;
    }

    private static byte[] Be64(long v)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(b, v);
        return b;
    }

    private static byte[] Be32(long v)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, (uint)v);
        return b;
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    public static byte[] Create(string name, byte[]? content, long timestamp, long? size = null) =>
        [.. Be64(name.Length), .. Be64(size ?? content!.Length), .. Be32(timestamp), .. Group, .. Ascii(name), .. content ?? []];

    public static byte[] Range(string name, long offset, byte[] data, long timestamp) =>
        [.. Be64(name.Length), .. Be64(offset), .. Be64(data.Length), .. Be32(timestamp), .. Group, .. Ascii(name), .. data];

    public static byte[] Truncate(string name, long oldSize, long newSize, long timestamp) =>
        [.. Be64(name.Length), .. Be64(oldSize), .. Be64(newSize), .. Be32(timestamp), .. Group, .. Ascii(name)];

    public static byte[] Delete(string name, long timestamp) => [.. Be32(timestamp), .. Group, .. Ascii(name)];

    public static byte[] TwoNames(string first, string second, long timestamp) =>
        [.. Be64(first.Length), .. Be64(second.Length), .. Be32(timestamp), .. Group, .. Ascii(first), .. Ascii(second)];
}
