using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Metadata;

namespace FastDfs.Storage.Tests;

/// <summary>Metadata that grows by merges stays within one answer's size; a larger -m file left by stock is still served.</summary>
public class MetadataLimitsTests
{
    [Fact]
    public async Task Merges_beyond_the_limit_are_refused_with_e2big_and_change_nothing()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync("m"u8.ToArray());
        await using var client = await storage.ConnectAsync();
        string value = new('v', 200);
        int accepted = 0;
        byte status = 0;
        for (int round = 0; round < 200 && status == 0; round++)
        {
            // 10 new items of ~210 bytes per merge: about 2 KB more each time, past 256 KB after ~120 merges.
            var items = Enumerable.Range(0, 10).Select(i => new MetadataItem($"k{round:D3}_{i}", value)).ToList();
            (status, _) = await client.RequestAsync(FdfsCommand.SetMetadata, Requests.SetMetadata(name, 'M', MetadataCodec.Pack(items)));
            accepted += status == 0 ? 1 : 0;
        }

        Assert.Equal(Errno.E2BIG, status);
        Assert.InRange(accepted, 50, 199);
        var (getStatus, body) = await client.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(name));
        Assert.Equal(0, getStatus);
        Assert.Equal(accepted * 10, MetadataCodec.Parse(body).Count);
    }

    [Fact]
    public async Task A_metadata_file_larger_than_the_buffer_is_served_whole()
    {
        await using var storage = await TestStorage.StartAsync();
        string name = await storage.UploadAsync("m"u8.ToArray());
        var items = Enumerable.Range(0, 2000).Select(i => new MetadataItem($"key{i:D5}", new string('x', 190))).ToList();
        byte[] packed = MetadataCodec.Pack(items);
        Assert.True(packed.Length > 300_000);
        await File.WriteAllBytesAsync(storage.FullPath(name) + "-m", packed);
        await using var client = await storage.ConnectAsync();
        var (status, body) = await client.RequestAsync(FdfsCommand.GetMetadata, Requests.GroupAndName(name));
        Assert.Equal(0, status);
        Assert.Equal(2000, MetadataCodec.Parse(body).Count);
        Assert.Equal(0, (await client.RequestAsync(FdfsCommand.ActiveTest, [])).Status);
    }

    [Fact]
    public void Merge_updates_the_first_item_of_a_name_and_adds_the_others()
    {
        List<MetadataItem> existing = [new("a", "1"), new("b", "2"), new("b", "3")];
        var merged = MetadataCodec.Merge(existing, [new("b", "9"), new("c", "4"), new("c", "5")]);
        Assert.Equal(["a=1", "b=9", "b=3", "c=5"], merged.Select(m => $"{m.Name}={m.Value}"));
    }
}
