using System.Buffers.Binary;
using System.Text;
using FastDfs.Protocol;

namespace FastDfs.Tracker.Network;

/// <summary>Storage ids (use_storage_id, spec 4.16, 6.9) and address changes without them (REPORT_IP_CHANGED).</summary>
internal sealed partial class TrackerSession
{
    /// <summary>FETCH_STORAGE_IDS (69): the storage_ids.conf lines from start_index, as many as fit a reply.</summary>
    private void FetchStorageIds(ReadOnlySpan<byte> body)
    {
        ExpectLength(body, 5, FdfsCommand.StorageFetchStorageIds);
        int start = BinaryPrimitives.ReadInt32BigEndian(body);
        if (_runtime.StorageIds is not { } table)
        {
            if (body[4] == 0)
            {
                throw new ProtocolException("FETCH_STORAGE_IDS: storage ids are off", Errno.EOPNOTSUPP);
            }

            Reply(stackalloc byte[8]);
            return;
        }

        var entries = table.Entries;
        if (start < 0 || start >= entries.Count)
        {
            if (entries.Count == 0 && start == 0 && body[4] != 0)
            {
                Reply(stackalloc byte[8]);
                return;
            }

            throw new ProtocolException($"FETCH_STORAGE_IDS start {start} of {entries.Count}");
        }

        var text = new StringBuilder();
        int returned = 0;
        long room = _options.MaxBuffSize - ProtocolConstants.HeaderSize - 8;
        for (int i = start; i < entries.Count; i++)
        {
            string line = entries[i].ToLine();
            if (text.Length + line.Length > room)
            {
                break;
            }

            text.Append(line);
            returned++;
        }

        byte[] lines = Encoding.ASCII.GetBytes(text.ToString());
        int total = entries.Count;
        Reply(8 + lines.Length, (span, _) =>
        {
            BinaryPrimitives.WriteInt32BigEndian(span, total);
            BinaryPrimitives.WriteInt32BigEndian(span[4..], returned);
            lines.CopyTo(span[8..]);
        });
    }

    /// <summary>GET_SERVER_ID (70): the id of the storage at group + ip:port (storage_ids.conf, else its record).</summary>
    private string ServerIdOf(ReadOnlySpan<byte> body)
    {
        if (_runtime.StorageIds is not { } table)
        {
            return FindStorageByHost(body).Id;
        }

        var (group, ip, port) = ParseGroupHost(body);
        return table.Find(group, ip, port)?.Id
            ?? throw new ProtocolException($"no storage id for {group} {ip}:{port}", Errno.ENOENT);
    }

    /// <summary>GET_GROUP_NAME (109): <c>port i32</c> (caller's address) or <c>ip</c> + <c>port i32</c>; needs storage ids.</summary>
    private void GetGroupName(ReadOnlySpan<byte> body)
    {
        if (_runtime.StorageIds is not { } table)
        {
            throw new ProtocolException("GET_GROUP_NAME needs storage ids", Errno.EOPNOTSUPP);
        }

        if (body.Length < 4 || body.Length > 4 + ProtocolConstants.IpAddressSize)
        {
            throw new ProtocolException($"GET_GROUP_NAME body of {body.Length} bytes");
        }

        string ip = body.Length == 4 ? RemoteIp : FixedString.ReadCString(body[..^4]);
        int port = BinaryPrimitives.ReadInt32BigEndian(body[^4..]);
        var entry = table.Find(null, ip, port) ?? throw new ProtocolException($"no storage id for {ip}:{port}", Errno.ENOENT);
        var group = new byte[ProtocolConstants.GroupNameMaxLen];
        FixedString.Write(group, entry.Group);
        Reply(group);
    }

    /// <summary>REPORT_IP_CHANGED (78): group[16] + old_ip[46] + new_ip[46]; the new IP must be the caller's.</summary>
    private void ReportIpChanged(ReadOnlySpan<byte> body)
    {
        ExpectLength(body, ProtocolConstants.GroupNameMaxLen + 2 * ProtocolConstants.IpAddressSize, FdfsCommand.StorageReportIpChanged);
        string group = ReadGroupName(body);
        string oldIp = FixedString.Read(body.Slice(ProtocolConstants.GroupNameMaxLen, ProtocolConstants.IpAddressSize));
        string newIp = FixedString.Read(body.Slice(ProtocolConstants.GroupNameMaxLen + ProtocolConstants.IpAddressSize, ProtocolConstants.IpAddressSize));
        if (newIp != RemoteIp)
        {
            throw new ProtocolException($"REPORT_IP_CHANGED new ip {newIp} is not the caller's {RemoteIp}");
        }

        if (oldIp.Length == 0 || oldIp == newIp)
        {
            throw new ProtocolException($"REPORT_IP_CHANGED from '{oldIp}' to '{newIp}'");
        }

        _cluster.ReportIpChanged(group, oldIp, newIp);
        ReplyEmpty();
    }

    private static (string Group, string Ip, int Port) ParseGroupHost(ReadOnlySpan<byte> body)
    {
        if (body.Length <= ProtocolConstants.GroupNameMaxLen)
        {
            throw new ProtocolException($"storage lookup body of {body.Length} bytes");
        }

        string group = ReadGroupName(body);
        string host = FixedString.ReadCString(body[ProtocolConstants.GroupNameMaxLen..]);
        int colon = host.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(host.AsSpan(colon + 1), out int port))
        {
            return (group, host.Trim('[', ']'), 0);
        }

        return (group, host[..colon].Trim('[', ']'), port);
    }
}
