using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using FastDfs.IntegrationTests.Infrastructure;
using FastDfs.Protocol.FileIds;

namespace FastDfs.IntegrationTests.Http;

/// <summary>HTTPS on the HTTP ports from PEM files, and http.admin.secret_key in front of the dashboard, /api/* and /metrics.</summary>
public sealed class TlsAndAdminKeyTests
{
    private const string UploadSecret = "tls-upload";
    private const string AdminKey = "admin-k3y";

    /// <summary>A self-signed certificate for 127.0.0.1 written as PEM certificate and key files.</summary>
    private sealed class PemFiles : IDisposable
    {
        public PemFiles()
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=fastdfs-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            Thumbprint = certificate.Thumbprint;
            Directory = System.IO.Directory.CreateTempSubdirectory("fdfs-tls-").FullName;
            File.WriteAllText(CertificatePath, certificate.ExportCertificatePem());
            File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
        }

        public string Directory { get; }
        public string Thumbprint { get; }
        public string CertificatePath => Path.Combine(Directory, "server.crt");
        public string KeyPath => Path.Combine(Directory, "server.key");

        /// <summary>An HttpClient that trusts exactly this certificate and shows redirects.</summary>
        public HttpClient Client(bool followRedirects = false) => new(new SocketsHttpHandler
        {
            AllowAutoRedirect = followRedirects,
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 c && c.Thumbprint == Thumbprint },
        })
        { Timeout = TimeSpan.FromSeconds(30) };

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }

    [Fact]
    public async Task With_a_certificate_both_HTTP_ports_serve_HTTPS_only_and_redirect_to_https()
    {
        var ct = Timeouts.Test(90);
        using var pem = new PemFiles();
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true,
            configureTracker: c => c with { Http = c.Http with { UploadSecretKey = UploadSecret, SslCertificate = pem.CertificatePath, SslCertificateKey = pem.KeyPath } },
            configureStorage: (_, c) => c with { Http = c.Http with { SslCertificate = pem.CertificatePath, SslCertificateKey = pem.KeyPath } });
        var tracker = new Uri($"https://127.0.0.1:{cluster.Tracker.HttpEndPoint!.Port}");
        var storage = new Uri($"https://127.0.0.1:{cluster.Storages[0].HttpEndPoint!.Port}");
        using var https = pem.Client();
        byte[] content = Encoding.UTF8.GetBytes("over TLS, end to end");

        using var upload = new HttpRequestMessage(HttpMethod.Put, new Uri(tracker, "/upload?ext=txt")) { Content = new ByteArrayContent(content) };
        upload.Headers.Add("X-FastDFS-Secret", UploadSecret);
        using var created = await https.SendAsync(upload, ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync(ct));
        var id = FileId.Parse(json.RootElement.GetProperty("fileId").GetString()!);
        Assert.StartsWith("https://", json.RootElement.GetProperty("url").GetString());

        using var redirect = await https.GetAsync(new Uri(tracker, "/" + id), ct);
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        Assert.Equal(new Uri(storage, "/" + id), redirect.Headers.Location);
        using var following = pem.Client(followRedirects: true);
        Assert.Equal(content, await following.GetByteArrayAsync(new Uri(tracker, "/" + id), ct));
        Assert.Equal(HttpStatusCode.OK, (await https.GetAsync(new Uri(storage, "/metrics"), ct)).StatusCode);

        // Plain HTTP on a TLS port: no answer in clear text.
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync($"http://127.0.0.1:{cluster.Storages[0].HttpEndPoint!.Port}/" + id, ct));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync($"http://127.0.0.1:{cluster.Tracker.HttpEndPoint!.Port}/metrics", ct));
    }

    [Fact]
    public async Task A_certificate_that_cannot_be_read_stops_the_start_with_its_path()
    {
        var ct = Timeouts.Test(60);
        string missing = Path.Combine(Path.GetTempPath(), "fdfs-no-such-cert-" + Guid.NewGuid().ToString("N") + ".pem");
        var e = await Assert.ThrowsAsync<Protocol.Config.ConfigException>(() => TestCluster.StartAsync(1, ct: ct, http: true,
            configureTracker: c => c with { Http = c.Http with { SslCertificate = missing } }));
        Assert.Contains(missing, e.Message);
        Assert.Equal("http.ssl_certificate", e.Key);
    }

    [Fact]
    public async Task With_an_admin_key_the_dashboard_api_and_metrics_need_it_and_files_do_not()
    {
        var ct = Timeouts.Test(90);
        await using var cluster = await TestCluster.StartAsync(1, ct: ct, http: true,
            configureTracker: c => c with { Http = c.Http with { AdminSecretKey = AdminKey } },
            configureStorage: (_, c) => c with { Http = c.Http with { AdminSecretKey = AdminKey } });
        await using var client = cluster.CreateClient();
        var id = await client.UploadAsync("public file"u8.ToArray(), "txt", ct: ct);
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };

        foreach (var url in (Uri[])[new(cluster.TrackerHttp, "/metrics"), new(cluster.TrackerHttp, "/api/cluster"), new(cluster.TrackerHttp, "/"),
                     new(cluster.TrackerHttp, "/dashboard"), new(cluster.StorageHttp(), "/metrics")])
        {
            using (var refused = await http.GetAsync(url, ct))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                Assert.Equal("Basic", refused.Headers.WwwAuthenticate.Single().Scheme);
            }

            foreach (var (scheme, value, expected) in (ValueTuple<string, string, HttpStatusCode>[])
                     [
                         ("Bearer", AdminKey, HttpStatusCode.OK),
                         ("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("anyone:" + AdminKey)), HttpStatusCode.OK),
                         ("Bearer", AdminKey + "x", HttpStatusCode.Unauthorized),
                         ("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(AdminKey + ":wrong")), HttpStatusCode.Unauthorized),
                         ("Basic", "not base64!", HttpStatusCode.Unauthorized),
                     ])
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.TryAddWithoutValidation("Authorization", $"{scheme} {value}");
                using var response = await http.SendAsync(request, ct);
                Assert.True(expected == response.StatusCode, $"{url} with {scheme} {value}: {response.StatusCode}");
            }
        }

        // Files stay as open as before: the key guards the cluster's layout, not its content.
        using var redirect = await http.GetAsync(new Uri(cluster.TrackerHttp, "/" + id), ct);
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        using var file = await http.GetAsync(new Uri(cluster.StorageHttp(), "/" + id), ct);
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("public file", await file.Content.ReadAsStringAsync(ct));
    }
}
