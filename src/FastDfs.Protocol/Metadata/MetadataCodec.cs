using System.Text;

namespace FastDfs.Protocol.Metadata;

/// <summary>One metadata item (name, value); names and values are raw UTF-8 on the wire.</summary>
public readonly record struct MetadataItem(string Name, string Value);

/// <summary>
/// Packed metadata: <c>name 0x02 value</c> records joined by <c>0x01</c>, no trailing separator (spec 10).
/// </summary>
public static class MetadataCodec
{
    /// <summary>Parses packed metadata as stock does: stop at NUL, skip records without 0x02, truncate long parts.</summary>
    public static List<MetadataItem> Parse(ReadOnlySpan<byte> packed)
    {
        var items = new List<MetadataItem>();
        int nul = packed.IndexOf((byte)0);
        if (nul >= 0)
        {
            packed = packed[..nul];
        }

        while (!packed.IsEmpty)
        {
            int end = packed.IndexOf(ProtocolConstants.RecordSeparator);
            var record = end >= 0 ? packed[..end] : packed;
            packed = end >= 0 ? packed[(end + 1)..] : ReadOnlySpan<byte>.Empty;
            int sep = record.IndexOf(ProtocolConstants.FieldSeparator);
            if (sep < 0)
            {
                continue;
            }

            var name = record[..sep];
            var value = record[(sep + 1)..];
            if (name.Length > ProtocolConstants.MaxMetaNameLen)
            {
                name = name[..ProtocolConstants.MaxMetaNameLen];
            }

            if (value.Length > ProtocolConstants.MaxMetaValueLen)
            {
                value = value[..ProtocolConstants.MaxMetaValueLen];
            }

            items.Add(new MetadataItem(Encoding.UTF8.GetString(name), Encoding.UTF8.GetString(value)));
        }

        return items;
    }

    public static byte[] Pack(IEnumerable<MetadataItem> items)
    {
        using var stream = new MemoryStream();
        bool first = true;
        foreach (var item in items)
        {
            if (!first)
            {
                stream.WriteByte(ProtocolConstants.RecordSeparator);
            }

            first = false;
            stream.Write(Encoding.UTF8.GetBytes(item.Name));
            stream.WriteByte(ProtocolConstants.FieldSeparator);
            stream.Write(Encoding.UTF8.GetBytes(item.Value));
        }

        return stream.ToArray();
    }

    /// <summary>Sorts by name byte-wise (strcmp order), stable for duplicate names, as stock stores them.</summary>
    public static List<MetadataItem> Sort(IEnumerable<MetadataItem> items) =>
        items.Select((item, index) => (item, index))
            .OrderBy(p => Encoding.UTF8.GetBytes(p.item.Name), ByteArrayComparer.Instance)
            .ThenBy(p => p.index)
            .Select(p => p.item)
            .ToList();

    /// <summary>
    /// Merge flag 'M': existing sorted list updated by the request (equal names take the new value; the first item of a
    /// name is the one updated, as stock does). Linear in the two lists (then one sort): a name index, not a search per item.
    /// </summary>
    public static List<MetadataItem> Merge(IReadOnlyList<MetadataItem> existing, IReadOnlyList<MetadataItem> update)
    {
        var result = new List<MetadataItem>(existing.Count + update.Count);
        var firstIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in existing)
        {
            firstIndex.TryAdd(item.Name, result.Count);
            result.Add(item);
        }

        foreach (var item in Sort(update))
        {
            if (firstIndex.TryGetValue(item.Name, out int i))
            {
                result[i] = item;
            }
            else
            {
                firstIndex[item.Name] = result.Count;
                result.Add(item);
            }
        }

        return Sort(result);
    }

    private sealed class ByteArrayComparer : IComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

/// <summary>SET_METADATA op flag.</summary>
public enum MetadataOp : byte
{
    Overwrite = (byte)'O',
    Merge = (byte)'M',
}
