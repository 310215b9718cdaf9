using FastDfs.Protocol;
using FastDfs.Storage.Sync;

using FastDfs.TestSupport;

namespace FastDfs.Storage.Tests.Sync;

/// <summary>Stock's storage-to-storage frames replayed against our storage: same replies, same replica binlog.</summary>
public sealed class SyncReceiverCaptureTests
{
    [Theory]
    [InlineData("storage-sync-appender-truncate-append-modify.hex")]
    [InlineData("storage-sync-create-file.hex")]
    [InlineData("storage-sync-preamble-active-test.hex")]
    [InlineData("storage-sync-catchup-after-restart.hex")]
    [InlineData("storage-sync-update-file.hex")]
    public async Task CapturedSyncFramesGetStocksReplies(string capture)
    {
        await using var storage = await TestStorage.StartAsync();
        await using var peer = await storage.ConnectAsync();
        var exchange = HexCapture.RequestsWithReplies(HexCapture.Load(capture));
        Assert.NotEmpty(exchange);
        foreach (var (request, expected) in exchange)
        {
            Assert.True(request.IsComplete, $"{capture}: a request frame is cut");
            await peer.SendRawAsync(request.Bytes);
            var (status, body) = await peer.ReceiveAsync();
            // One deliberate difference: an append whose bytes the replica already holds (a record sent again) is
            // answered OK, not EEXIST, so that our sender does not send the whole file (docs/replication.md).
            bool alreadyHeld = request.Header.Cmd == FdfsCommand.SyncAppendFile && expected == Errno.EEXIST && status == Errno.Ok;
            Assert.True(expected == status || alreadyHeld, $"{capture}: {request.Header.Cmd} answered {status}, stock {expected}");
            Assert.Empty(body);
        }
    }

    [Fact]
    public async Task ReplicaBinlogMatchesStocksForTheAppenderExchange()
    {
        await using var storage = await TestStorage.StartAsync();
        await using var peer = await storage.ConnectAsync();
        foreach (var (request, _) in HexCapture.RequestsWithReplies(HexCapture.Load("storage-sync-appender-truncate-append-modify.hex")))
        {
            await peer.SendRawAsync(request.Bytes);
            await peer.ReceiveAsync();
        }

        // binlogs-and-marks.txt, replica 10.77.0.3: c, c (-m), m 15 10 with the source timestamps; EEXIST logs nothing.
        Assert.Equal(
        [
            "1795479441 c M00/00/00/Ck0AAmsE15GEHDzpAAAAADIebQU231.dat",
            "1795479440 c M00/00/00/Ck0AAmsE15GEHDzpAAAAADIebQU231.dat-m",
            "1795479441 m M00/00/00/Ck0AAmsE15GEHDzpAAAAADIebQU231.dat 15 10",
        ], storage.BinlogLines());
        string replica = storage.FullPath("M00/00/00/Ck0AAmsE15GEHDzpAAAAADIebQU231.dat");
        Assert.Equal("ABCDEABCDEFGHIJABCDEFGHIJ"u8.ToArray(), await File.ReadAllBytesAsync(replica));
        Assert.Equal(DateTime.UnixEpoch.AddSeconds(1795479441), File.GetLastWriteTimeUtc(replica));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(storage.BasePath, "data"), ".cp*.tmp"));
    }

    [Fact]
    public async Task ReceiverRulesForMissingAndAlreadyAppliedChanges()
    {
        await using var storage = await TestStorage.StartAsync();
        await using var peer = await storage.ConnectAsync();
        string name = await storage.UploadAsync("0123456789"u8.ToArray(), "dat", appender: true);

        // SYNC_CREATE of an existing file of the same size: content discarded, EEXIST, c logged.
        Assert.Equal(Errno.EEXIST, (await peer.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(name, "abcdefghij"u8.ToArray(), 100))).Status);
        Assert.Equal("0123456789"u8.ToArray(), await File.ReadAllBytesAsync(storage.FullPath(name)));
        // Header status EEXIST: no content, c logged, EEXIST.
        Assert.Equal(Errno.EEXIST, (await peer.RequestAsync(FdfsCommand.SyncCreateFile, SyncBodies.Create(name, null, 101, size: 10), status: Errno.EEXIST)).Status);
        // APPEND at the wrong offset: already applied (EEXIST) or missing bytes (ENOENT).
        Assert.Equal(Errno.EEXIST, (await peer.RequestAsync(FdfsCommand.SyncAppendFile, SyncBodies.Range(name, 5, "ab"u8.ToArray(), 102))).Status);
        Assert.Equal(Errno.ENOENT, (await peer.RequestAsync(FdfsCommand.SyncAppendFile, SyncBodies.Range(name, 12, "ab"u8.ToArray(), 102))).Status);
        Assert.Equal(Errno.Ok, (await peer.RequestAsync(FdfsCommand.SyncAppendFile, SyncBodies.Range(name, 10, "ab"u8.ToArray(), 103))).Status);
        // MODIFY beyond the end: ENOENT; TRUNCATE from a size we do not have: EEXIST; missing file: ENOENT.
        Assert.Equal(Errno.ENOENT, (await peer.RequestAsync(FdfsCommand.SyncModifyFile, SyncBodies.Range(name, 20, "zz"u8.ToArray(), 104))).Status);
        Assert.Equal(Errno.EEXIST, (await peer.RequestAsync(FdfsCommand.SyncTruncateFile, SyncBodies.Truncate(name, 99, 3, 105))).Status);
        Assert.Equal(Errno.Ok, (await peer.RequestAsync(FdfsCommand.SyncTruncateFile, SyncBodies.Truncate(name, 12, 3, 106))).Status);
        string missing = name[..^8] + "9999.dat";
        Assert.Equal(Errno.ENOENT, (await peer.RequestAsync(FdfsCommand.SyncTruncateFile, SyncBodies.Truncate(missing, 3, 1, 107))).Status);
        Assert.Equal(Errno.ENOENT, (await peer.RequestAsync(FdfsCommand.SyncDeleteFile, SyncBodies.Delete(missing, 108))).Status);
        // RENAME: new name taken -> EEXIST; old name missing -> ENOENT; otherwise renamed.
        Assert.Equal(Errno.ENOENT, (await peer.RequestAsync(FdfsCommand.SyncRenameFile, SyncBodies.TwoNames(missing[..^3] + "txt", missing, 109))).Status);
        Assert.Equal(Errno.Ok, (await peer.RequestAsync(FdfsCommand.SyncRenameFile, SyncBodies.TwoNames(missing, name, 110))).Status);
        Assert.Equal("012"u8.ToArray(), await File.ReadAllBytesAsync(storage.FullPath(missing)));
        Assert.Equal(Errno.Ok, (await peer.RequestAsync(FdfsCommand.SyncDeleteFile, SyncBodies.Delete(missing, 111))).Status);

        Assert.Equal(
        [
            $"100 c {name}", $"101 c {name}", $"103 a {name} 10 2", $"106 t {name} 12 3", $"110 r {missing} {name}", $"111 d {missing}",
        ], storage.BinlogLines().Skip(1));

        // The connection still serves a normal request.
        Assert.Equal(Errno.Ok, (await peer.RequestAsync(FdfsCommand.ActiveTest, [])).Status);
    }

    [Fact]
    public void MarkFilesRoundTripInStocksFormat()
    {
        string text = "binlog_index=0\nbinlog_offset=786\nneed_sync_old=1\nsync_old_done=1\nuntil_timestamp=1795479397\nscan_row_count=13\nsync_row_count=6\n";
        string path = Path.Combine(Directory.CreateTempSubdirectory("fdfs-mark-").FullName, SyncMark.FileName("10.77.0.3", 23000));
        File.WriteAllText(path, text);
        var mark = SyncMark.TryLoad(path)!;
        Assert.Equal(new BinlogPosition(0, 786), mark.Position);
        Assert.True(mark.NeedSyncOld && mark.SyncOldDone);
        Assert.Equal(1795479397, mark.UntilTimestamp);
        File.Delete(path);
        mark.Save(path);
        Assert.Equal(text, File.ReadAllText(path));
        Assert.EndsWith("10.77.0.3_23000.mark", path, StringComparison.Ordinal);

        // A damaged mark is an error that says what to do, never a silent restart from the binlog's beginning.
        File.WriteAllText(path, "binlog_index=0\nbinlog_offset=-1\n");
        Assert.Contains("delete it to push", Assert.Throws<InvalidDataException>(() => SyncMark.TryLoad(path)).Message);
        File.WriteAllText(path, "");
        Assert.Contains("empty or damaged", Assert.Throws<InvalidDataException>(() => SyncMark.TryLoad(path)).Message);
        File.Delete(path);
        Assert.Null(SyncMark.TryLoad(path));
    }

    [Fact]
    public void EveryCapturedBinlogLineParses()
    {
        var lines = File.ReadLines(TestData.PathOf("binlogs-and-marks.txt"))
            .Where(l => l.Length > 12 && char.IsAsciiDigit(l[0]) && l[10] == ' ' && char.IsAsciiLetter(l[11]) && l.Contains("M00/", StringComparison.Ordinal))
            .ToList();
        Assert.True(lines.Count > 50);
        foreach (string line in lines)
        {
            Assert.True(BinlogRecord.TryParse(line, out var record), line);
            Assert.StartsWith("M00/", record.FileName, StringComparison.Ordinal);
        }

        Assert.True(BinlogRecord.TryParse("1795479441 M M00/00/00/x.dat 15 10", out var modify));
        Assert.Equal(('M', 15L, 10L), (modify.Op, modify.First, modify.Second));
        Assert.True(BinlogRecord.TryParse("1795565089 R M00/00/00/new.dat M00/00/00/old.dat", out var rename));
        Assert.Equal("M00/00/00/old.dat", rename.OtherName);
        Assert.False(BinlogRecord.TryParse("17955 X M00/00/00/x.dat", out _));
    }
}
