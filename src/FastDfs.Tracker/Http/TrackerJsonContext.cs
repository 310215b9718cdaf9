using System.Text.Json;
using System.Text.Json.Serialization;

namespace FastDfs.Tracker.Http;

/// <summary>
/// The JSON the tracker's HTTP front writes, generated at compile time: the same documents as reflection-based
/// serialization with <see cref="JsonSerializerDefaults.Web"/>, and no reflection or runtime code generation
/// (a Native AOT build has neither).
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ClusterSnapshot))]
[JsonSerializable(typeof(FileListingPage))]
[JsonSerializable(typeof(TrackerHttpHandler.UploadResult))]
internal sealed partial class TrackerJsonContext : JsonSerializerContext;
