using System.Globalization;
using System.Text;
using FastDfs.Protocol;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Tracker.Cluster;

namespace FastDfs.Tracker.Network;

/// <summary>Client -> tracker commands (spec section 4): upload/download targets, admin, parameters.</summary>
internal sealed partial class TrackerSession
{
    private const int MinFetchBody = ProtocolConstants.GroupNameMaxLen + 22;
    private const int MaxFetchBody = ProtocolConstants.GroupNameMaxLen + 128;

    private int IpSize => _runtime.IpSize;

    private bool TryDispatchClient(FdfsCommand command, ReadOnlySpan<byte> body)
    {
        switch (command)
        {
            case FdfsCommand.ActiveTest:
                ExpectLength(body, 0, command);
                ReplyEmpty();
                return true;
            case FdfsCommand.QueryStoreWithoutGroupOne:
                ExpectLength(body, 0, command);
                QueryStoreOne(null);
                return true;
            case FdfsCommand.QueryStoreWithGroupOne:
                ExpectLength(body, ProtocolConstants.GroupNameMaxLen, command);
                QueryStoreOne(ReadGroupName(body));
                return true;
            case FdfsCommand.QueryStoreWithoutGroupAll:
                ExpectLength(body, 0, command);
                QueryStoreAll(null);
                return true;
            case FdfsCommand.QueryStoreWithGroupAll:
                ExpectLength(body, ProtocolConstants.GroupNameMaxLen, command);
                QueryStoreAll(ReadGroupName(body));
                return true;
            case FdfsCommand.QueryFetchOne:
                QueryFetch(body, FetchKind.FetchOne);
                return true;
            case FdfsCommand.QueryUpdate:
                QueryFetch(body, FetchKind.Update);
                return true;
            case FdfsCommand.QueryFetchAll:
                QueryFetch(body, FetchKind.FetchAll);
                return true;
            case DrainStorage.Command:
            {
                RequireAdmin(command);
                var (group, id, draining) = DrainStorage.ParseRequest(body);
                _cluster.SetDraining(group, id, draining);
                ReplyEmpty();
                return true;
            }

            case AddMovedFiles.Command:
                // Answered once the entries are on disk (moved_files.dat): the mover deletes the source copies after it.
                RequireAdmin(command);
                _cluster.AddMovedFiles(AddMovedFiles.ParseRequest(body));
                ReplyEmpty();
                return true;
            case FdfsCommand.ServerDeleteStorage:
                RequireAdmin(command);
                if (body.Length is <= ProtocolConstants.GroupNameMaxLen or >= ProtocolConstants.GroupNameMaxLen + ProtocolConstants.StorageIdMaxSize)
                {
                    throw new ProtocolException($"DELETE_STORAGE body of {body.Length} bytes");
                }

                _cluster.DeleteStorage(ReadGroupName(body), FixedString.Read(body[ProtocolConstants.GroupNameMaxLen..]));
                ReplyEmpty();
                return true;
            case FdfsCommand.ServerDeleteGroup:
                RequireAdmin(command);
                ExpectLength(body, ProtocolConstants.GroupNameMaxLen, command);
                _cluster.DeleteGroup(ReadGroupName(body));
                ReplyEmpty();
                return true;
            case FdfsCommand.StorageParameterReq:
                ExpectLength(body, 0, command);
                Reply(ParameterReply.Encode(Parameters(_options, IpSize)));
                return true;
            case FdfsCommand.StorageFetchStorageIds:
                FetchStorageIds(body);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Removing members of the cluster, draining and moving files are for <c>admin_hosts</c> (default everyone, as stock).</summary>
    private void RequireAdmin(FdfsCommand command)
    {
        var address = _connection.RemoteEndPoint?.Address;
        if (address is null || !_runtime.AdminHosts.Allows(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address))
        {
            throw new ProtocolException($"{command} from {RemoteIp}, which admin_hosts does not list", Errno.EPERM);
        }
    }

    private void QueryStoreOne(string? group)
    {
        var target = _cluster.QueryStore(group, all: false);
        var response = new QueryStoreResponse(target.Group, target.Storages[0], target.StorePathIndex);
        Reply(QueryStoreResponse.Size(IpSize), (span, session) => response.Write(span, session.IpSize));
    }

    private void QueryStoreAll(string? group)
    {
        var target = _cluster.QueryStore(group, all: true);
        var response = new QueryStoreAllResponse(target.Group, target.Storages, target.StorePathIndex);
        Reply(response.Size(IpSize), (span, session) => response.Write(span, session.IpSize));
    }

    private void QueryFetch(ReadOnlySpan<byte> body, FetchKind kind)
    {
        if (body.Length is < MinFetchBody or >= MaxFetchBody)
        {
            throw new ProtocolException($"query fetch/update body of {body.Length} bytes");
        }

        var request = GroupFileRequest.Parse(body);
        var response = _cluster.QueryFetch(request.Group, request.LogicName, kind);
        Reply(response.Size(IpSize), (span, session) => response.Write(span, session.IpSize));
    }


    /// <summary>The PARAMETER_REQ keys: the 26 of stock, in its order and formats (4.15).</summary>
    internal static List<KeyValuePair<string, string>> Parameters(TrackerConfig o, int ipSize)
    {
        static string B(bool value) => value ? "1" : "0";
        static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
        static string T(TimeOnly time) => $"{time.Hour:D2}:{time.Minute:D2}";
        var list = new List<KeyValuePair<string, string>>(26);
        void Add(string key, string value) => list.Add(new(key, value));
        Add("use_storage_id", B(o.UseStorageId));
        Add("id_type_in_filename", o.IdTypeInFilename == FileNameIdType.Id ? "id" : "ip");
        Add("trust_storage_server_id", B(o.TrustStorageServerId));
        Add("response_ip_addr_size", N(ipSize));
        Add("storage_ip_changed_auto_adjust", B(o.StorageIpChangedAutoAdjust));
        Add("storage_sync_file_max_delay", N(o.StorageSyncFileMaxDelay));
        Add("store_path", N((int)o.StorePath));
        Add("reserved_storage_space", o.ReservedStorageSpace.ToParameterString());
        Add("use_trunk_file", B(o.UseTrunkFile));
        Add("slot_min_size", N(o.SlotMinSize));
        Add("slot_max_size", N(o.SlotMaxSize));
        Add("trunk_alloc_alignment_size", N(o.TrunkAllocAlignmentSize));
        Add("trunk_file_size", N(o.TrunkFileSize));
        Add("trunk_create_file_advance", B(o.TrunkCreateFileAdvance));
        Add("trunk_create_file_time_base", T(o.TrunkCreateFileTimeBase));
        Add("trunk_create_file_interval", N(o.TrunkCreateFileInterval));
        Add("trunk_create_file_space_threshold", N(o.TrunkCreateFileSpaceThreshold));
        Add("trunk_init_check_occupying", B(o.TrunkInitCheckOccupying));
        Add("trunk_init_reload_from_binlog", B(o.TrunkInitReloadFromBinlog));
        Add("trunk_free_space_merge", B(o.TrunkFreeSpaceMerge));
        Add("delete_unused_trunk_files", B(o.DeleteUnusedTrunkFiles));
        Add("trunk_compress_binlog_min_interval", N(o.TrunkCompressBinlogMinInterval));
        Add("trunk_compress_binlog_interval", N(o.TrunkCompressBinlogInterval));
        Add("trunk_compress_binlog_time_base", T(o.TrunkCompressBinlogTimeBase));
        Add("trunk_binlog_max_backups", N(o.TrunkBinlogMaxBackups));
        Add("store_slave_file_use_link", B(o.StoreSlaveFileUseLink));
        return list;
    }
}
