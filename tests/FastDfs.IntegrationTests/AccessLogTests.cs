using System.Text.RegularExpressions;
using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Metadata;

namespace FastDfs.IntegrationTests;

/// <summary>The storage's access log (<c>[access-log] enabled = true</c>): one stock-format line per client file request.</summary>
public sealed class AccessLogTests
{
    [Theory]
    [InlineData(LogTimePrecision.Millisecond)]
    [InlineData(LogTimePrecision.Microsecond)]
    public async Task Every_client_file_request_gets_a_line_with_its_client_action_name_status_time_and_lengths(LogTimePrecision precision)
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(
            configureStorage: (_, c) => c with { AccessLogEnabled = true, AccessLogTimePrecision = precision }, ct: ct);
        await cluster.WaitForActiveAsync(1, ct);
        await using var client = cluster.CreateClient();

        var id = await client.UploadAsync("hello"u8.ToArray(), "txt", ct: ct);
        Assert.Equal("hello"u8.ToArray(), await client.DownloadBytesAsync(id, ct: ct));
        await client.SetMetadataAsync(id, [new MetadataItem("k", "v")], ct: ct);
        Assert.Single(await client.GetMetadataAsync(id, ct));
        await using var appenderContent = new MemoryStream("abc"u8.ToArray());
        var appender = await client.UploadAppenderAsync(appenderContent, 3, "log", ct: ct);
        await client.AppendAsync(appender, "defg"u8.ToArray(), ct);
        await client.TruncateAsync(appender, 2, ct);
        var info = await client.GetFileInfoAsync(appender, ct); // an appender's info comes from the storage
        Assert.Equal(2, info.FileSize);
        await client.DeleteAsync(id, ct);
        var missing = await Assert.ThrowsAsync<FastDfsException>(() => client.DownloadBytesAsync(id, ct: ct));
        Assert.Equal(Errno.ENOENT, missing.ErrorCode);

        cluster.Storages[0].Context.AccessLog!.Flush();
        string path = Path.Combine(cluster.StorageConfigs[0].BasePath, "logs", "storage_access.log");
        string[] lines = (await File.ReadAllLinesAsync(path, ct)).Where(l => l.Length > 0).ToArray();
        string unit = precision == LogTimePrecision.Microsecond ? "us" : "ms";
        Assert.Equal($"client_ip action filename status time_used_{unit} req_len resp_len", lines[0]);

        string fraction = precision == LogTimePrecision.Microsecond ? @"\d{6}" : @"\d{3}";
        var format = new Regex($@"^\[\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\.{fraction}\] 127\.0\.0\.1 (\S+) (\S+) (\d+) (\d+) (\d+) (\d+)$");
        var entries = lines[1..].Select(line =>
        {
            var m = format.Match(line);
            Assert.True(m.Success, $"not an access log line: {line}");
            return (Action: m.Groups[1].Value, Name: m.Groups[2].Value, Status: int.Parse(m.Groups[3].Value),
                Request: long.Parse(m.Groups[5].Value), Reply: long.Parse(m.Groups[6].Value));
        }).ToList();

        string name = id.LogicName, appenderName = appender.LogicName;
        // Upload: 10-byte header + store path index, size, extension (1 + 8 + 6) + 5 bytes; reply: header + group + name.
        Assert.Contains(("upload", name, 0, 10 + 15 + 5L, 10 + 16L + name.Length), entries);
        Assert.Contains(("download", name, 0, 10 + 16 + 16L + name.Length, 10 + 5L), entries);
        Assert.Contains(entries, e => e is { Action: "set_metadata", Status: 0 } && e.Name == name);
        Assert.Contains(entries, e => e is { Action: "get_metadata", Status: 0, Reply: 10 + 3 } && e.Name == name);
        Assert.Contains(("upload", appenderName, 0, 10 + 15 + 3L, 10 + 16L + appenderName.Length), entries);
        Assert.Contains(entries, e => e is { Action: "append", Status: 0, Reply: 10 } && e.Name == appenderName);
        Assert.Contains(entries, e => e is { Action: "truncate", Status: 0 } && e.Name == appenderName);
        Assert.Contains(entries, e => e is { Action: "status", Status: 0, Reply: > 10 } && e.Name == appenderName);
        Assert.Contains(entries, e => e is { Action: "delete", Status: 0 } && e.Name == name);
        Assert.Contains(entries, e => e is { Action: "download", Status: Errno.ENOENT, Reply: 10 } && e.Name == name);
        Assert.Equal(entries.Count, entries.Count(e => e.Action is "upload" or "download" or "delete" or "get_metadata" or "set_metadata"
            or "append" or "truncate" or "status"));
    }

    [Fact]
    public async Task No_access_log_is_written_when_it_is_off()
    {
        var ct = Timeouts.Test();
        await using var cluster = await TestCluster.StartAsync(ct: ct);
        await cluster.WaitForActiveAsync(1, ct);
        await using var client = cluster.CreateClient();
        await client.UploadAsync("x"u8.ToArray(), ct: ct);
        Assert.Null(cluster.Storages[0].Context.AccessLog);
        Assert.False(File.Exists(Path.Combine(cluster.StorageConfigs[0].BasePath, "logs", "storage_access.log")));
    }
}
