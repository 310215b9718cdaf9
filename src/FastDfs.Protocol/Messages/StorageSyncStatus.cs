using System.Globalization;
using System.Text;

namespace FastDfs.Protocol.Messages;

/// <summary>How far storage <see cref="DestId"/> has applied the records of <see cref="SrcId"/>.</summary>
public readonly record struct SyncLag(string DestId, string SrcId, long LastSyncedTimestamp, long DelaySeconds);

/// <summary>
/// FastDFS.NET extension command <see cref="FdfsCommand.ServerStorageSyncStatus"/> (tracker, request
/// <c>group_name[16]</c>): why each storage is in its state and each peer's sync lag. Stock trackers do
/// not know the command (they answer EINVAL or close); the stock StorageStat bytes are unchanged.
/// Body: text lines, tab separated: <c>R id reason</c> and <c>S dest src last_synced_timestamp delay_seconds</c>.
/// </summary>
public sealed record StorageSyncStatus(IReadOnlyDictionary<string, string> Reasons, IReadOnlyList<SyncLag> Lags)
{
    public byte[] ToArray()
    {
        var text = new StringBuilder();
        foreach (var (id, reason) in Reasons)
        {
            text.Append("R\t").Append(id).Append('\t').Append(reason.Replace('\t', ' ').Replace('\n', ' ')).Append('\n');
        }

        foreach (var lag in Lags)
        {
            text.Append(CultureInfo.InvariantCulture, $"S\t{lag.DestId}\t{lag.SrcId}\t{lag.LastSyncedTimestamp}\t{lag.DelaySeconds}\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static StorageSyncStatus Parse(ReadOnlySpan<byte> body)
    {
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        var lags = new List<SyncLag>();
        foreach (var line in Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split('\t');
            if (fields is ["R", var id, var reason])
            {
                reasons[id] = reason;
            }
            else if (fields is ["S", var dest, var src, var synced, var delay] &&
                     long.TryParse(synced, NumberStyles.Integer, CultureInfo.InvariantCulture, out long syncedTs) &&
                     long.TryParse(delay, NumberStyles.Integer, CultureInfo.InvariantCulture, out long delaySeconds))
            {
                lags.Add(new SyncLag(dest, src, syncedTs, delaySeconds));
            }
        }

        return new StorageSyncStatus(reasons, lags);
    }
}
