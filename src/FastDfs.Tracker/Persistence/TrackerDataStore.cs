using System.Globalization;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.ServerCore.Time;
using FastDfs.Tracker.Cluster;
using Microsoft.Extensions.Logging;

namespace FastDfs.Tracker.Persistence;

/// <summary>
/// base_path/data of a tracker: the state files (written whole to a temporary file, flushed, then renamed
/// over the old one, so a crash leaves either the old or the new file, never a torn one), the append-only
/// changelog, .tracker_status, and FastDFS.NET's moved_files.dat (the moved-files map: an append-only file whose lines
/// are flushed to the disk before ADD_MOVED_FILES is answered, <see cref="MovedFilesFile"/>).
/// </summary>
internal sealed class TrackerDataStore
{
    /// <summary>Largest GET_ONE_SYS_FILE chunk: 8 KB minus the header, the size field and stock's NUL.</summary>
    public const int SysFileChunk = 8192 - 8 - ProtocolConstants.HeaderSize - 1;

    /// <summary>Largest CHANGELOG_REQ chunk.</summary>
    public const int ChangelogChunk = 8 * 1024;

    private readonly ILogger _logger;
    private readonly TimeProvider _clock;
    private readonly Lock _changelogLock = new();
    private readonly Lock _sysFilesLock = new();
    private object? _sysFilesOwner;

    /// <summary>The state files as GET_SYS_FILES_START saw them, served to the copying peer (changelog excluded).</summary>
    private byte[][]? _sysFilesSnapshot;

    public TrackerDataStore(string basePath, ILogger logger, TimeProvider clock)
    {
        DataDirectory = Path.Combine(basePath, "data");
        _logger = logger;
        _clock = clock;
        Directory.CreateDirectory(DataDirectory);
        MovedFiles = new MovedFilesFile(PathOf(MovedFilesFile.FileName), logger);
        // Stock creates the changelog empty at start.
        using (File.Open(PathOf(TrackerStateFormat.ChangelogFile), FileMode.OpenOrCreate, FileAccess.Write))
        {
        }
    }

    public string DataDirectory { get; }

    /// <summary>moved_files.dat: the moved-files map on disk.</summary>
    public MovedFilesFile MovedFiles { get; }

    public string PathOf(string name) => Path.Combine(DataDirectory, name);

    /// <summary>Whether a previous run left state (the groups file).</summary>
    public bool HasState => File.Exists(PathOf(TrackerStateFormat.GroupsFile));

    public static void WriteAtomic(string path, string text)
    {
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Writes the three state files from one consistent snapshot.</summary>
    public void Save(ClusterState cluster)
    {
        var (groups, servers, sync) = cluster.ExportFiles();
        WriteAtomic(PathOf(TrackerStateFormat.GroupsFile), groups);
        WriteAtomic(PathOf(TrackerStateFormat.ServersFile), servers);
        WriteAtomic(PathOf(TrackerStateFormat.SyncTimestampFile), sync);
    }

    /// <summary>Loads the state files into <paramref name="cluster"/> (storages come back OFFLINE until they re-join).</summary>
    public bool Load(ClusterState cluster)
    {
        if (!HasState)
        {
            return false;
        }

        string Read(string name) => File.Exists(PathOf(name)) ? File.ReadAllText(PathOf(name)) : "";
        cluster.ImportFiles(Read(TrackerStateFormat.GroupsFile), Read(TrackerStateFormat.ServersFile),
            Read(TrackerStateFormat.SyncTimestampFile));
        _logger.LogInformation("loaded tracker state from {Directory}", DataDirectory);
        return true;
    }

    /// <summary>Installs the sys files copied from a peer (index order of spec 8) and loads them.</summary>
    public void InstallFromPeer(IReadOnlyList<byte[]> files, ClusterState cluster)
    {
        for (int i = 0; i < files.Count && i < TrackerStateFormat.SysFiles.Length; i++)
        {
            WriteAtomic(PathOf(TrackerStateFormat.SysFiles[i]), Encoding.ASCII.GetString(files[i]));
        }

        Load(cluster);
    }

    /// <summary>
    /// GET_SYS_FILES_START: snapshots the current state files in memory and locks them for one peer connection.
    /// The copy is served from that snapshot, not written out first: writing means three fsyncs on the thread
    /// that serves the request (the state writer persists the same state within a second anyway).
    /// </summary>
    /// <summary>
    /// GET_SYS_FILES_START: one copying tracker at a time. A holder silent for <paramref name="expiry"/> loses the lock
    /// (a START followed by silence would otherwise keep every other tracker out for good).
    /// </summary>
    public bool TryLockSysFiles(object owner, ClusterState cluster, TimeSpan expiry)
    {
        var snapshot = ExportSnapshot(cluster);
        lock (_sysFilesLock)
        {
            long now = _clock.Milliseconds();
            if (_sysFilesOwner is not null && !ReferenceEquals(_sysFilesOwner, owner) && now - _sysFilesTouched < (long)expiry.TotalMilliseconds)
            {
                return false;
            }

            _sysFilesOwner = owner;
            _sysFilesSnapshot = snapshot;
            _sysFilesTouched = now;
            return true;
        }
    }

    /// <summary>The holder is still copying (GET_ONE_SYS_FILE): its lock does not expire meanwhile.</summary>
    public void TouchSysFilesLock(object owner)
    {
        lock (_sysFilesLock)
        {
            if (ReferenceEquals(_sysFilesOwner, owner))
            {
                _sysFilesTouched = _clock.Milliseconds();
            }
        }
    }

    private static byte[][] ExportSnapshot(ClusterState cluster)
    {
        var (groups, servers, sync) = cluster.ExportFiles();
        return [Encoding.ASCII.GetBytes(groups), Encoding.ASCII.GetBytes(servers), Encoding.ASCII.GetBytes(sync)];
    }

    private long _sysFilesTouched;

    public void UnlockSysFiles(object owner)
    {
        lock (_sysFilesLock)
        {
            if (ReferenceEquals(_sysFilesOwner, owner))
            {
                _sysFilesOwner = null;
                _sysFilesSnapshot = null;
            }
        }
    }

    /// <summary>
    /// GET_ONE_SYS_FILE: the file's size and the chunk starting at <paramref name="offset"/>. The state files come
    /// from the snapshot of GET_SYS_FILES_START (or the current state without one), the changelog from disk.
    /// </summary>
    public (long Size, byte[] Chunk) ReadSysFile(int index, long offset, ClusterState cluster)
    {
        if (index == TrackerStateFormat.MovedFilesIndex)
        {
            return ReadFileChunk(MovedFiles.Path, offset);
        }

        if (index < 0 || index >= TrackerStateFormat.SysFiles.Length)
        {
            throw new ProtocolException($"sys file index {index}");
        }

        if (index < 3)
        {
            byte[][]? files;
            lock (_sysFilesLock)
            {
                files = _sysFilesSnapshot;
            }

            return ChunkOf((files ?? ExportSnapshot(cluster))[index], offset);
        }

        return ReadFileChunk(PathOf(TrackerStateFormat.SysFiles[index]), offset);
    }

    /// <summary>A file's size and the chunk at <paramref name="offset"/> (an absent file is empty).</summary>
    private static (long Size, byte[] Chunk) ReadFileChunk(string path, long offset)
    {
        if (!File.Exists(path))
        {
            return (0, []);
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long size = stream.Length;
        var chunk = new byte[ChunkLength(size, offset)];
        stream.Position = offset;
        stream.ReadExactly(chunk);
        return (size, chunk);
    }

    private static (long Size, byte[] Chunk) ChunkOf(byte[] file, long offset) =>
        (file.Length, file.AsSpan((int)offset, ChunkLength(file.Length, offset)).ToArray());

    /// <summary>The length of the chunk at <paramref name="offset"/> of a sys file of <paramref name="size"/> bytes.</summary>
    private static int ChunkLength(long size, long offset) => offset >= 0 && offset <= size
        ? (int)Math.Min(SysFileChunk, size - offset)
        : throw new ProtocolException($"sys file offset {offset} beyond size {size}");

    /// <summary>Appends one changelog line <c>ts group id status arg\n</c> (spec 14.3).</summary>
    public void AppendChangelog(string group, string id, StorageStatus status, string arg)
    {
        string line = string.Create(CultureInfo.InvariantCulture, $"{_clock.UnixSeconds()} {group} {id} {(byte)status} {arg}\n");
        lock (_changelogLock)
        {
            using var stream = new FileStream(PathOf(TrackerStateFormat.ChangelogFile), FileMode.Append, FileAccess.Write, FileShare.Read);
            stream.Write(Encoding.ASCII.GetBytes(line));
            stream.Flush(flushToDisk: true);
        }
    }

    public long ChangelogLength
    {
        get
        {
            var info = new FileInfo(PathOf(TrackerStateFormat.ChangelogFile));
            return info.Exists ? info.Length : 0;
        }
    }

    /// <summary>The changelog from <paramref name="offset"/>, at most <see cref="ChangelogChunk"/> bytes (empty when nothing is new).</summary>
    public byte[] ReadChangelog(long offset)
    {
        lock (_changelogLock)
        {
            using var stream = new FileStream(PathOf(TrackerStateFormat.ChangelogFile), FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);
            if (offset >= stream.Length || offset < 0)
            {
                return [];
            }

            var chunk = new byte[(int)Math.Min(ChangelogChunk, stream.Length - offset)];
            stream.Position = offset;
            stream.ReadExactly(chunk);
            return chunk;
        }
    }

    /// <summary>.tracker_status of the previous run: (up_time, last_check_time), zeros when absent.</summary>
    public (long UpTime, long LastCheckTime) ReadStatus()
    {
        string path = PathOf(TrackerStateFormat.StatusFile);
        if (!File.Exists(path))
        {
            return (0, 0);
        }

        var ini = IniFile.Parse(File.ReadAllText(path));
        long L(string key) => long.TryParse(ini.GetString(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : 0;
        return (L("up_time"), L("last_check_time"));
    }

    public void WriteStatus(long upTime, long now) =>
        WriteAtomic(PathOf(TrackerStateFormat.StatusFile),
            string.Create(CultureInfo.InvariantCulture, $"up_time={upTime}\nlast_check_time={now}\n"));
}
