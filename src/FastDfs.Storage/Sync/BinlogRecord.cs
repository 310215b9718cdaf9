using System.Globalization;

namespace FastDfs.Storage.Sync;

/// <summary>
/// One parsed binlog line (spec 12.2): <c>timestamp op name[ extra]</c>. For <c>L</c>/<c>R</c> the extra
/// field is a second logic name; for <c>A</c>/<c>M</c>/<c>T</c> two numbers.
/// </summary>
internal readonly record struct BinlogRecord(long Timestamp, char Op, string FileName, string? OtherName, long First, long Second)
{
    /// <summary>Stock readers reject lines of 256 bytes or more.</summary>
    public const int MaxLineLength = 256;

    /// <summary>Upper case = the operation originated on the storage that wrote the line.</summary>
    public bool IsSource => char.IsAsciiLetterUpper(Op);

    public char UpperOp => char.ToUpperInvariant(Op);

    public static bool TryParse(ReadOnlySpan<char> line, out BinlogRecord record)
    {
        record = default;
        line = line.TrimEnd('\n').TrimEnd('\r');
        int firstSpace = line.IndexOf(' ');
        if (firstSpace <= 0 || line.Length < firstSpace + 4 || line[firstSpace + 2] != ' ' ||
            !long.TryParse(line[..firstSpace], NumberStyles.None, CultureInfo.InvariantCulture, out long timestamp))
        {
            return false;
        }

        char op = line[firstSpace + 1];
        var rest = line[(firstSpace + 3)..];
        switch (char.ToUpperInvariant(op))
        {
            case 'C' or 'D' or 'U':
                if (rest.IsEmpty || rest.IndexOf(' ') >= 0)
                {
                    return false;
                }

                record = new BinlogRecord(timestamp, op, rest.ToString(), null, 0, 0);
                return true;
            case 'L' or 'R':
            {
                int space = rest.IndexOf(' ');
                if (space <= 0 || space == rest.Length - 1)
                {
                    return false;
                }

                record = new BinlogRecord(timestamp, op, rest[..space].ToString(), rest[(space + 1)..].ToString(), 0, 0);
                return true;
            }

            case 'A' or 'M' or 'T':
            {
                int nameEnd = rest.IndexOf(' ');
                if (nameEnd <= 0)
                {
                    return false;
                }

                var numbers = rest[(nameEnd + 1)..];
                int split = numbers.IndexOf(' ');
                if (split <= 0 ||
                    !long.TryParse(numbers[..split], NumberStyles.None, CultureInfo.InvariantCulture, out long first) ||
                    !long.TryParse(numbers[(split + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out long second))
                {
                    return false;
                }

                record = new BinlogRecord(timestamp, op, rest[..nameEnd].ToString(), null, first, second);
                return true;
            }

            default:
                return false;
        }
    }
}

/// <summary>A byte position in the binlog: file index and offset of the next byte to read.</summary>
internal readonly record struct BinlogPosition(int Index, long Offset) : IComparable<BinlogPosition>
{
    public int CompareTo(BinlogPosition other) =>
        Index != other.Index ? Index.CompareTo(other.Index) : Offset.CompareTo(other.Offset);

    public static bool operator <(BinlogPosition a, BinlogPosition b) => a.CompareTo(b) < 0;

    public static bool operator >(BinlogPosition a, BinlogPosition b) => a.CompareTo(b) > 0;

    public static bool operator <=(BinlogPosition a, BinlogPosition b) => a.CompareTo(b) <= 0;

    public static bool operator >=(BinlogPosition a, BinlogPosition b) => a.CompareTo(b) >= 0;
}
