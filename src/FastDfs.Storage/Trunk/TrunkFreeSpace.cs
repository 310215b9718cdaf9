namespace FastDfs.Storage.Trunk;

/// <summary>
/// The free blocks of one store path's trunk files, indexed two ways: by size for best-fit allocation
/// (spec 13: the smallest block that fits; among equal sizes the lowest trunk id and offset) and by
/// position per trunk file for merging neighbours and for the overlap checks that keep one byte range
/// from ever being free twice. Not thread-safe: <see cref="TrunkSpaceManager"/> serialises access.
/// </summary>
internal sealed class TrunkFreeSpace
{
    private static readonly Comparer<TrunkBlock> BySize = Comparer<TrunkBlock>.Create((a, b) =>
    {
        int c = a.Size.CompareTo(b.Size);
        if (c == 0)
        {
            c = a.File.TrunkId.CompareTo(b.File.TrunkId);
        }

        return c != 0 ? c : a.Offset.CompareTo(b.Offset);
    });

    private static readonly Comparer<TrunkBlock> ByOffset = Comparer<TrunkBlock>.Create((a, b) => a.Offset.CompareTo(b.Offset));

    private readonly SortedSet<TrunkBlock> _bySize = new(BySize);
    private readonly Dictionary<int, SortedSet<TrunkBlock>> _byFile = [];

    public int Count => _bySize.Count;
    public long TotalBytes { get; private set; }

    public IEnumerable<TrunkBlock> Blocks => _bySize;

    /// <summary>The smallest free block of at least <paramref name="size"/> bytes, or null.</summary>
    public TrunkBlock? BestFit(int size)
    {
        if (_bySize.Count == 0 || _bySize.Max.Size < size)
        {
            return null;
        }

        var low = new TrunkBlock(new TrunkFileKey(0, 0, 0, int.MinValue), int.MinValue, size);
        var high = new TrunkBlock(new TrunkFileKey(0, 0, 0, int.MaxValue), int.MaxValue, int.MaxValue);
        return _bySize.GetViewBetween(low, high).Min;
    }

    /// <summary>Adds a free block; false (and nothing changes) when it overlaps a free block.</summary>
    public bool Add(TrunkBlock block)
    {
        if (block.Size <= 0 || Overlapping(block).Any())
        {
            return false;
        }

        FileSet(block.File.TrunkId).Add(block);
        _bySize.Add(block);
        TotalBytes += block.Size;
        return true;
    }

    /// <summary>Removes exactly this free block; false when it is not a free block.</summary>
    public bool Remove(TrunkBlock block)
    {
        if (!_byFile.TryGetValue(block.File.TrunkId, out var set) || !set.TryGetValue(block, out var found) ||
            found.Size != block.Size || found.File != block.File)
        {
            return false;
        }

        set.Remove(found);
        _bySize.Remove(found);
        TotalBytes -= found.Size;
        return true;
    }

    /// <summary>Free blocks of the same trunk file that share at least one byte with <paramref name="block"/>.</summary>
    public IEnumerable<TrunkBlock> Overlapping(TrunkBlock block)
    {
        if (!_byFile.TryGetValue(block.File.TrunkId, out var set) || set.Count == 0)
        {
            return [];
        }

        var result = new List<TrunkBlock>();
        if (Predecessor(set, block.Offset + 1) is { } before && before.End > block.Offset)
        {
            result.Add(before);
        }

        if (block.Size > 1 && block.Offset < int.MaxValue)
        {
            var from = block with { Offset = block.Offset + 1 };
            var to = block with { Offset = (int)Math.Min(int.MaxValue, block.End - 1) };
            if (ByOffset.Compare(from, to) <= 0)
            {
                result.AddRange(set.GetViewBetween(from, to));
            }
        }

        return result;
    }

    /// <summary>The free block ending exactly at <paramref name="offset"/> in that trunk file, if any.</summary>
    public TrunkBlock? EndingAt(TrunkFileKey file, int offset) =>
        _byFile.TryGetValue(file.TrunkId, out var set) && Predecessor(set, offset) is { } before && before.End == offset
            ? before
            : null;

    /// <summary>The free block starting exactly at <paramref name="offset"/> in that trunk file, if any.</summary>
    public TrunkBlock? StartingAt(TrunkFileKey file, long offset) =>
        offset <= int.MaxValue && _byFile.TryGetValue(file.TrunkId, out var set) &&
        set.TryGetValue(new TrunkBlock(file, (int)offset, 0), out var found)
            ? found
            : null;

    /// <summary>Free blocks of one trunk file in offset order.</summary>
    public IReadOnlyCollection<TrunkBlock> InFile(int trunkId) =>
        _byFile.TryGetValue(trunkId, out var set) ? set : [];

    /// <summary>The free block with the greatest offset below <paramref name="offset"/>.</summary>
    private static TrunkBlock? Predecessor(SortedSet<TrunkBlock> set, int offset)
    {
        if (set.Count == 0 || set.Min.Offset >= offset)
        {
            return null;
        }

        // Never empty: set.Min lies below the probe. (Count on a view would walk it.)
        var probe = set.Min with { Offset = offset - 1 };
        return set.GetViewBetween(set.Min, probe).Max;
    }

    private SortedSet<TrunkBlock> FileSet(int trunkId)
    {
        if (!_byFile.TryGetValue(trunkId, out var set))
        {
            set = new SortedSet<TrunkBlock>(ByOffset);
            _byFile[trunkId] = set;
        }

        return set;
    }
}
