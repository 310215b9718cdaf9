using FastDfs.Protocol;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Cluster;

namespace FastDfs.Tracker.Network;

/// <summary>Monitoring commands: group/storage lists and cluster statistics (spec 4.5-4.7, 4.12-4.14).</summary>
internal sealed partial class TrackerSession
{
    private const int StorageClusterEntrySize =
        ProtocolConstants.StorageIdMaxSize + ProtocolConstants.MaxIpPortSize + 2 + 12 + ProtocolConstants.VersionSize + 16;
    private const int VolumeEntrySize = ProtocolConstants.GroupNameMaxLen + 1 + 5 * 8 + 2;

    private bool TryDispatchMonitor(FdfsCommand command, ReadOnlySpan<byte> body)
    {
        switch (command)
        {
            case FdfsCommand.ServerListOneGroup:
                ExpectLength(body, ProtocolConstants.GroupNameMaxLen, command);
                ReplyGroups(_cluster.ListGroups(ReadGroupName(body)));
                return true;
            case FdfsCommand.ServerListAllGroups:
                ExpectLength(body, 0, command);
                ReplyGroups(_cluster.ListGroups());
                return true;
            case FdfsCommand.ServerListStorage:
                ListStorages(body);
                return true;
            case FdfsCommand.ServerStorageClusterStat:
                ExpectLength(body, 4, command);
                StorageClusterStat(body);
                return true;
            case FdfsCommand.ServerStorageVolumeStat:
                ExpectLength(body, 4, command);
                VolumeStat(body);
                return true;
            case FdfsCommand.ServerStorageSyncStatus:
                ExpectLength(body, ProtocolConstants.GroupNameMaxLen, command);
                Reply(_cluster.SyncStatus(ReadGroupName(body)).ToArray());
                return true;
            default:
                return false;
        }
    }

    private void ReplyGroups(List<GroupStat> groups)
    {
        long size = (long)groups.Count * GroupStat.Size;
        if (size + ProtocolConstants.HeaderSize > _options.MaxBuffSize)
        {
            throw new ProtocolException($"{groups.Count} groups do not fit the buffer", Errno.ENOSPC);
        }

        Reply((int)size, (span, _) =>
        {
            for (int i = 0; i < groups.Count; i++)
            {
                groups[i].Write(span.Slice(i * GroupStat.Size, GroupStat.Size));
            }
        });
    }

    private void ListStorages(ReadOnlySpan<byte> body)
    {
        if (body.Length is < ProtocolConstants.GroupNameMaxLen or >= ProtocolConstants.GroupNameMaxLen + ProtocolConstants.StorageIdMaxSize)
        {
            throw new ProtocolException($"LIST_STORAGE body of {body.Length} bytes");
        }

        string? id = body.Length > ProtocolConstants.GroupNameMaxLen
            ? FixedString.Read(body[ProtocolConstants.GroupNameMaxLen..])
            : null;
        var storages = _cluster.ListStorages(ReadGroupName(body), string.IsNullOrEmpty(id) ? null : id);
        int recordSize = StorageStat.Size(IpSize);
        Reply(storages.Count * recordSize, (span, session) =>
        {
            for (int i = 0; i < storages.Count; i++)
            {
                storages[i].Write(span.Slice(i * recordSize, recordSize), session.IpSize);
            }
        });
    }

    private void StorageClusterStat(ReadOnlySpan<byte> body)
    {
        byte filter = body[0], op = body[1], status = body[2];
        bool wantTrunk = body[3] != 0;
        bool useTrunk = _options.UseTrunkFile;
        var entries = _cluster.StorageClusterStat(s =>
            ((filter & 1) == 0 || !useTrunk || s.IsTrunkServer == wantTrunk) &&
            ((filter & 2) == 0 || (op == '=' && (byte)s.Status == status) || (op == '!' && (byte)s.Status != status)));
        int size = 6 + entries.Count * StorageClusterEntrySize;
        if (size + ProtocolConstants.HeaderSize > _options.MaxBuffSize)
        {
            throw new ProtocolException($"{entries.Count} storages do not fit the buffer");
        }

        Reply(size, (span, _) =>
        {
            var w = new SpanWriter(span);
            w.WriteByte(_options.UseStorageId ? (byte)1 : (byte)0);
            w.WriteByte(useTrunk ? (byte)1 : (byte)0);
            w.WriteInt32(entries.Count);
            foreach (var e in entries)
            {
                w.WriteFixed(e.Id, ProtocolConstants.StorageIdMaxSize);
                w.WriteFixed(e.Host, ProtocolConstants.MaxIpPortSize);
                w.WriteByte(e.IsTrunkServer ? (byte)1 : (byte)0);
                w.WriteByte((byte)e.Status);
                w.WriteInt32(e.AllocCount);
                w.WriteInt32(e.CurrentCount);
                w.WriteInt32(e.MaxCount);
                w.WriteFixed(e.Version, ProtocolConstants.VersionSize);
                w.WriteInt64(e.UpTime);
                w.WriteInt64(e.LastHeartbeat);
            }
        });
    }

    /// <summary>Per-group space (4.14); trunk space is never available since trunk files are off.</summary>
    private void VolumeStat(ReadOnlySpan<byte> body)
    {
        byte filter = body[0];
        bool wantDisk = body[1] != 0, wantTrunk = body[2] != 0, wantSpace = body[3] != 0;
        var entries = _cluster.VolumeStat().Where(v =>
            ((filter & 1) == 0 || v.DiskAvailable == wantDisk) &&
            ((filter & 2) == 0 || !wantTrunk) &&
            ((filter & 4) == 0 || v.DiskAvailable == wantSpace)).ToList();
        int size = 5 + entries.Count * VolumeEntrySize;
        if (size + ProtocolConstants.HeaderSize > _options.MaxBuffSize)
        {
            throw new ProtocolException($"{entries.Count} groups do not fit the buffer");
        }

        Reply(size, (span, _) =>
        {
            var w = new SpanWriter(span);
            w.WriteByte(_options.UseTrunkFile ? (byte)1 : (byte)0);
            w.WriteInt32(entries.Count);
            foreach (var v in entries)
            {
                w.WriteFixed(v.Group, ProtocolConstants.GroupNameMaxLen + 1);
                w.WriteInt64(v.TotalMb);
                w.WriteInt64(v.FreeMb);
                w.WriteInt64(v.ReservedMb);
                w.WriteInt64(v.DiskAvailable ? Math.Max(0, v.FreeMb - v.ReservedMb) : 0);
                w.WriteInt64(0);
                w.WriteByte(v.DiskAvailable ? (byte)1 : (byte)0);
                w.WriteByte(0);
            }
        });
    }
}
