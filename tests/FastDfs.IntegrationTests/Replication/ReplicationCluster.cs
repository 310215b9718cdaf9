using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.FileIds;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Hosting;

namespace FastDfs.IntegrationTests.Replication;

/// <summary>
/// Helpers for group replication tests. Every storage gets its own loopback address (127.0.0.2, .3 ...):
/// a file name carries only its source's IP, so distinct addresses let the tracker tell the source of a
/// file apart, as on a real network; the tracker stays on 127.0.0.1.
/// </summary>
internal static class ReplicationCluster
{
    public static string AddressOf(int storageIndex) => $"127.0.0.{storageIndex + 2}";

    public static StorageConfig Configure(int index, StorageConfig config) => config with
    {
        BindAddr = AddressOf(index),
        SyncWaitMsec = 20,
        WriteMarkFileFreq = 50,
    };

    public static Task<TestCluster> StartAsync(int storages, CancellationToken ct, Func<int, StorageConfig, StorageConfig>? more = null) =>
        TestCluster.StartAsync(storages,
            tracker => tracker,
            (i, c) => more is null ? Configure(i, c) : more(i, Configure(i, c)),
            ct);

    public static StorageClient Direct(FastDfsClient client, StorageServer storage) =>
        client.GetStorage(new StorageEndpoint(storage.EndPoint.Address.ToString(), storage.EndPoint.Port));

    /// <summary>Downloads <paramref name="id"/> straight from <paramref name="storage"/>; null when it answers ENOENT.</summary>
    public static async Task<byte[]?> TryDownloadAsync(FastDfsClient client, StorageServer storage, FileId id, CancellationToken ct)
    {
        var direct = Direct(client, storage);
        try
        {
            var buffer = new MemoryStream();
            await direct.DownloadAsync(id, buffer, ct: ct);
            return buffer.ToArray();
        }
        catch (FastDfsException e) when (e.ErrorCode == Errno.ENOENT)
        {
            return null;
        }
    }

    /// <summary>
    /// Polls until every storage serves every file byte-identical. A file served with other bytes fails at
    /// once, unless <paramref name="mutable"/> (appender files pass through intermediate states).
    /// </summary>
    public static async Task AllServeAsync(FastDfsClient client, IReadOnlyList<StorageServer> storages,
        IReadOnlyDictionary<FileId, byte[]> files, CancellationToken ct, TimeSpan? timeout = null, bool mutable = false)
    {
        var pending = new HashSet<(int, FileId)>();
        for (int s = 0; s < storages.Count; s++)
        {
            foreach (var id in files.Keys)
            {
                pending.Add((s, id));
            }
        }

        await Eventually.TrueAsync(async () =>
        {
            foreach (var (s, id) in pending.ToList())
            {
                var content = await TryDownloadAsync(client, storages[s], id, ct);
                if (content is null || (mutable && !content.AsSpan().SequenceEqual(files[id])))
                {
                    continue;
                }

                Assert.Equal(files[id], content);
                pending.Remove((s, id));
            }

            return pending.Count == 0;
        }, timeout ?? TimeSpan.FromSeconds(20), "every storage serving every file", ct);
    }

    public static async Task<StorageStat> StatOfAsync(FastDfsClient client, StorageServer storage, CancellationToken ct)
    {
        var all = await client.ListStoragesAsync("group1", ct: ct);
        return all.Single(s => s.IpAddr == storage.EndPoint.Address.ToString() && s.StoragePort == storage.EndPoint.Port);
    }

    public static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Mixed sizes from 0 B to 1 MB, mostly small.</summary>
    public static int SizeFor(int i) => (i % 10) switch
    {
        0 => 0,
        1 => 1,
        9 when i % 50 == 9 => 1024 * 1024,
        8 => 100_000 + i,
        _ => 10 + (i * 37 % 5000),
    };
}
