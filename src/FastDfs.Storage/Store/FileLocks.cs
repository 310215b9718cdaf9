namespace FastDfs.Storage.Store;

/// <summary>
/// One asynchronous lock per logic file name, for the operations that change a file in place (append, modify,
/// truncate, rename, metadata) and for the sync worker that snapshots such a file: without it two appends to one
/// appender file both read the same length and write at the same offset, and both are acknowledged. An entry lives
/// only while someone holds or waits for it.
/// </summary>
internal sealed class FileLocks
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Waits for the lock of <paramref name="logicName"/>; dispose the result to release it.</summary>
    public async ValueTask<Holder> AcquireAsync(string logicName, CancellationToken cancellationToken)
    {
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(logicName, out entry!))
            {
                entry = new Entry();
                _entries[logicName] = entry;
            }

            entry.Users++;
        }

        try
        {
            await entry.Semaphore.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Leave(logicName, entry);
            throw;
        }

        return new Holder(this, logicName, entry);
    }

    /// <summary>Names currently held or waited for (tests).</summary>
    internal int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    private void Leave(string logicName, Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Users == 0)
            {
                _entries.Remove(logicName);
            }
        }
    }

    internal sealed class Entry
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);
        public int Users;
    }

    /// <summary>A held lock.</summary>
    public readonly struct Holder : IDisposable
    {
        private readonly FileLocks? _owner;
        private readonly string _name;
        private readonly Entry _entry;

        internal Holder(FileLocks owner, string name, Entry entry)
        {
            _owner = owner;
            _name = name;
            _entry = entry;
        }

        public void Dispose()
        {
            if (_owner is null)
            {
                return;
            }

            _entry.Semaphore.Release();
            _owner.Leave(_name, _entry);
        }
    }
}
