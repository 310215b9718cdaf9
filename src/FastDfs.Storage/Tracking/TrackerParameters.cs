using System.Globalization;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.Messages;
using FastDfs.Storage.Trunk;

namespace FastDfs.Storage.Tracking;

/// <summary>
/// The group-wide settings a storage takes from its tracker with STORAGE_PARAMETER_REQ (spec 4.15), with
/// stock's storage-side defaults for anything missing. Until a tracker answers, <see cref="Default"/> applies
/// (IPv4 responses: our file-info replies stay 40 bytes without a tracker).
/// </summary>
internal sealed record TrackerParameters
{
    public static readonly TrackerParameters Default = new();

    public bool UseStorageId { get; init; }
    public bool IdTypeIsId { get; init; }
    public int ResponseIpAddrSize { get; init; } = IpFieldSize.V4;
    public bool StorageIpChangedAutoAdjust { get; init; }
    public int StorePathMode { get; init; }
    public ReservedSpace ReservedSpace { get; init; } = ReservedSpace.Default;
    public bool UseTrunkFile { get; init; }
    public bool StoreSlaveFileUseLink { get; init; }
    public TrunkSettings Trunk { get; init; } = TrunkSettings.Default;

    /// <summary>Parses the <c>key=value\n</c> body; unknown keys are ignored, bad values keep the default.</summary>
    public static TrackerParameters Parse(string text) => Parse(System.Text.Encoding.ASCII.GetBytes(text));

    /// <inheritdoc cref="Parse(string)"/>
    public static TrackerParameters Parse(ReadOnlySpan<byte> body)
    {
        var values = ParameterReply.Parse(body);

        bool Flag(string key, bool fallback) =>
            values.TryGetValue(key, out var v) ? v is "1" or "true" or "yes" or "on" : fallback;

        int Int(string key, int fallback) =>
            values.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : fallback;

        var reserved = ReservedSpace.Default;
        if (values.TryGetValue("reserved_storage_space", out var reservedText))
        {
            try
            {
                reserved = ReservedSpace.Parse(reservedText);
            }
            catch (Exception e) when (e is ConfigException or FormatException or ArgumentException)
            {
                reserved = ReservedSpace.Default;
            }
        }

        int ipSize = Int("response_ip_addr_size", IpFieldSize.V6);
        return new TrackerParameters
        {
            UseStorageId = Flag("use_storage_id", false),
            IdTypeIsId = values.TryGetValue("id_type_in_filename", out var idType) && idType == "id",
            ResponseIpAddrSize = ipSize == IpFieldSize.V4 ? IpFieldSize.V4 : IpFieldSize.V6,
            StorageIpChangedAutoAdjust = Flag("storage_ip_changed_auto_adjust", false),
            StorePathMode = Int("store_path", 0),
            ReservedSpace = reserved,
            UseTrunkFile = Flag("use_trunk_file", false),
            StoreSlaveFileUseLink = Flag("store_slave_file_use_link", false),
            Trunk = TrunkSettings.FromParameters(values),
        };
    }
}
