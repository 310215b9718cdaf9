using FastDfs.Client;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.Http;

/// <summary>One cluster with HTTP on for a test class: a tracker (upload secret <see cref="Secret"/>) and one storage.</summary>
public sealed class HttpCluster : IAsyncLifetime
{
    public const string Secret = "upload-s3cret";

    public TestCluster Cluster { get; private set; } = null!;

    public FastDfsClient Client { get; private set; } = null!;

    /// <summary>An HttpClient that does not follow redirects (the tests look at them).</summary>
    public HttpClient Http { get; } = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        Cluster = await TestCluster.StartAsync(1,
            configureTracker: c => c with { Http = c.Http with { UploadSecretKey = Secret } },
            ct: Timeouts.Test(), http: true);
        Client = Cluster.CreateClient();
    }

    public Uri StorageUrl(FileId id) => new(Cluster.StorageHttp(), "/" + id);

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Client.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
