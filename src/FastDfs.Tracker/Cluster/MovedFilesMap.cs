using System.Collections.Concurrent;
using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Cluster;

/// <summary>
/// The moved-files map (<c>fdfs rebalance</c>, docs/rebalancing.md): <c>source group + logic name → target group</c>.
/// QUERY_FETCH_ONE/ALL and QUERY_UPDATE look up every request here, so lookups take no lock and allocate nothing: an
/// empty map answers from a counter, a filled one from a small per-source-group table of name tables (the request's
/// logic name string is the key as it is). Writers are serialized (with the file append, so file order is map order).
/// </summary>
internal sealed class MovedFilesMap
{
    /// <summary>Where a moved file lives, and since when (unix seconds the tracker added the entry; 0: unknown).</summary>
    public readonly record struct Target(string Group, long AddedAt);

    /// <summary>An entry as the file holds it: the move and when it was added.</summary>
    public readonly record struct Entry(MovedFile Move, long AddedAt);

    /// <summary>Hops a lookup follows (g1→g2→g3...): writes keep the map free of cycles, this only bounds a bad file.</summary>
    public const int MaxHops = 8;

    private readonly Lock _writeLock = new();

    /// <summary>One string per group name (targets repeat for millions of entries).</summary>
    private readonly Dictionary<string, string> _groupNames = new(StringComparer.Ordinal);

    /// <summary>source group → (logic name → target group). Replaced whole when a source group appears (rare), so readers
    /// see an immutable outer table; the name tables are concurrent.</summary>
    private volatile Dictionary<string, ConcurrentDictionary<string, Target>> _bySource = new(StringComparer.Ordinal);

    private int _count;

    /// <summary>Live entries.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The group <paramref name="logicName"/> of <paramref name="group"/> now lives in (following moves of moves)
    /// with the time of that last move, or null when it was not moved.</summary>
    public Target? Resolve(string group, string logicName)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return null;
        }

        var bySource = _bySource;
        Target? resolved = null;
        string current = group;
        for (int hop = 0; hop < MaxHops && bySource.TryGetValue(current, out var names) && names.TryGetValue(logicName, out var target); hop++)
        {
            resolved = target;
            current = target.Group;
        }

        return resolved;
    }

    /// <summary>
    /// Applies <paramref name="entries"/> in order after <paramref name="persist"/> (the file append) returned: a failing
    /// write applies nothing. Concurrent adds are serialized, so the file's order is the map's.
    /// </summary>
    public void Add(IReadOnlyList<Entry> entries, Action<IReadOnlyList<Entry>>? persist)
    {
        lock (_writeLock)
        {
            persist?.Invoke(entries);
            foreach (var entry in entries)
            {
                Apply(entry);
            }
        }
    }

    /// <summary>Loading the file: entries in file order (later lines win), nothing written.</summary>
    public void Load(IReadOnlyList<Entry> entries) => Add(entries, persist: null);

    /// <summary>Every live entry (compacting the file), unordered.</summary>
    public List<Entry> Snapshot()
    {
        var list = new List<Entry>(Count);
        foreach (var (source, names) in _bySource)
        {
            foreach (var (name, target) in names)
            {
                list.Add(new Entry(new MovedFile(source, name, target.Group), target.AddedAt));
            }
        }

        return list;
    }

    private void Apply(Entry added)
    {
        var entry = added.Move;
        string source = Intern(entry.SourceGroup), target = Intern(entry.TargetGroup);
        // The file now lives in the target group: a mapping of that name away from the target is stale (a file moved back),
        // and dropping it keeps the map free of cycles. A target equal to the source removes the mapping this way too.
        Remove(target, entry.LogicName);
        if (!ReferenceEquals(source, target))
        {
            Set(source, entry.LogicName, new Target(target, added.AddedAt));
        }
    }

    private void Remove(string source, string logicName)
    {
        if (_bySource.TryGetValue(source, out var names) && names.TryRemove(logicName, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private void Set(string source, string logicName, Target target)
    {
        if (!_bySource.TryGetValue(source, out var names))
        {
            names = new ConcurrentDictionary<string, Target>(StringComparer.Ordinal);
            _bySource = new Dictionary<string, ConcurrentDictionary<string, Target>>(_bySource, StringComparer.Ordinal) { [source] = names };
        }

        // Writers are serialized: nothing changes the name between the check and the store.
        bool added = !names.ContainsKey(logicName);
        names[logicName] = target;
        if (added)
        {
            Interlocked.Increment(ref _count);
        }
    }

    private string Intern(string group)
    {
        if (!_groupNames.TryGetValue(group, out string? interned))
        {
            _groupNames[group] = interned = group;
        }

        return interned;
    }
}
