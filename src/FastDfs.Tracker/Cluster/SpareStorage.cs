using FastDfs.Protocol.Messages;

namespace FastDfs.Tracker.Cluster;

/// <summary>
/// A storage waiting without a group (storage.conf <c>spare_storage = true</c>), as this tracker last heard from it
/// (SPARE_STORAGE). In memory only: a spare reports every heartbeat. Mutated only under <see cref="ClusterState"/>'s lock.
/// </summary>
internal sealed class SpareStorage(string ip, int port)
{
    public string Ip { get; } = ip;
    public int Port { get; } = port;
    public string Address => Ip.Contains(':', StringComparison.Ordinal) ? $"[{Ip}]:{Port}" : $"{Ip}:{Port}";

    /// <summary>The group its storage.conf names (it takes a place there only), or empty for any group.</summary>
    public string WantedGroup { get; set; } = "";
    public int StorePathCount { get; set; }
    public int SubdirCount { get; set; }
    public long TotalMb { get; set; }
    public long FreeMb { get; set; }
    public long FirstSeen { get; set; }
    public long LastSeen { get; set; }

    /// <summary>The place it was given (the leader's decision, or the leader's decision it brought here), or null.</summary>
    public SpareAssignment? Assigned { get; set; }
}
