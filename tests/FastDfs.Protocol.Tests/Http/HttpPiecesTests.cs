using FastDfs.Protocol.Config;
using FastDfs.Protocol.Http;
using FastDfs.Protocol.Tests.Config;

namespace FastDfs.Protocol.Tests.Http;

public class AntiStealTokenTests
{
    private const string FileId = "group1/M00/00/00/wKgzgFnkTPyAIAUGAAEoRmXZPp876.jpeg";
    private const string Secret = "FastDFS1234567890";

    [Fact]
    public void Token_is_lowercase_md5_of_file_id_secret_and_decimal_ts()
    {
        // Expected value from Python: hashlib.md5(b"<file id>FastDFS12345678901508144380").hexdigest()
        Assert.Equal("ee0992332d82755a0241182c35fd72bb", AntiStealToken.Compute(FileId, Secret, 1508144380));
    }

    [Theory]
    [InlineData(null, "1508144380", TokenCheck.Malformed)]
    [InlineData("ee0992332d82755a0241182c35fd72b", "1508144380", TokenCheck.Malformed)]
    [InlineData("ee0992332d82755a0241182c35fd72bb", "1508144380", TokenCheck.Valid)]
    [InlineData("EE0992332D82755A0241182C35FD72BB", "1508144380", TokenCheck.Mismatch)]
    [InlineData("ee0992332d82755a0241182c35fd72bb", "1508144381", TokenCheck.Mismatch)]
    [InlineData("ee0992332d82755a0241182c35fd72bb", "1508143000", TokenCheck.Expired)]
    public void Check_follows_stock_order_length_then_age_then_digest(string? token, string ts, TokenCheck expected)
    {
        Assert.Equal(expected, AntiStealToken.Check(FileId, Secret, token, ts, now: 1508144400, ttlSeconds: 600));
    }

    [Fact]
    public void Ts_zero_or_missing_never_expires_but_must_be_part_of_the_digest()
    {
        string zero = AntiStealToken.Compute(FileId, Secret, 0);
        Assert.Equal(TokenCheck.Valid, AntiStealToken.Check(FileId, Secret, zero, null, now: 2_000_000_000, ttlSeconds: 1));
        Assert.Equal(TokenCheck.Valid, AntiStealToken.Check(FileId, Secret, zero, "junk", now: 2_000_000_000, ttlSeconds: 1));
    }
}

public class MimeTypeMapTests
{
    [Theory]
    [InlineData("M00/00/00/wKgzgFnkTPyAIAUGAAEoRmXZPp876.jpeg", "image/jpeg")]
    [InlineData("M00/00/00/wKgzgFnkTPyAIAUGAAEoRmXZPp8.tar.gz", "application/gzip")]
    [InlineData("M00/00/00/wKgzgFnkTPyAIAUGAAEoRmXZPp83636083", "application/octet-stream")]
    [InlineData("a.TXT", "text/plain")]
    [InlineData("a.unknownext", "application/octet-stream")]
    public void Built_in_map_knows_common_types(string name, string expected) =>
        Assert.Equal(expected, MimeTypeMap.CreateDefault().GetContentType(name));

    [Fact]
    public void Apache_mime_types_file_is_parsed_and_the_default_is_configurable()
    {
        var map = MimeTypeMap.Parse(new StringReader("""
            # comment line
            image/x-custom			cst cst2
            text/x-weird wrd;
            no-slash-line abc
            """), "application/x-default");

        Assert.Equal("image/x-custom", map.GetContentType("file.cst2"));
        Assert.Equal("text/x-weird", map.GetContentType("file.wrd"));
        Assert.Equal("application/x-default", map.GetContentType("file.abc"));
        Assert.Equal("application/x-default", map.GetContentType("file.jpg"));
    }
}

public class FileUrlTests
{
    [Theory]
    [InlineData("/group1/M00/00/00/wKgzgFnkTPyAIAUGAAEoRmXZPp876.jpeg", true, "group1", "M00/00/00/wKgzgFnkTPyAIAUGAAEoRmXZPp876.jpeg")]
    [InlineData("/M00/00/00/wKgzgFnkTPyAIAUGAAEoRmXZPp876.jpeg", false, "group7", "M00/00/00/wKgzgFnkTPyAIAUGAAEoRmXZPp876.jpeg")]
    public void File_urls_parse_to_file_ids(string path, bool withGroup, string group, string logic)
    {
        Assert.True(FileUrl.TryParse(path, withGroup, "group7", out var id));
        Assert.Equal(group, id.Group);
        Assert.Equal(logic, id.LogicName);
        Assert.Equal(path, FileUrl.PathOf(id, withGroup));
    }

    [Theory]
    [InlineData("")]
    [InlineData("group1/M00/00/00/x")]
    [InlineData("/group1/M00/00/00/../x")]
    [InlineData("/group1/M00/./00/x")]
    [InlineData("/group1//M00/00/00/x")]
    [InlineData("/group1/M00/00/00/a\\b")]
    [InlineData("/group1/M00/00/00/a%2fb")]
    [InlineData("/group1/M00/00/00/a\0b")]
    [InlineData("/group1/M00/00/00/a b")]
    [InlineData("/group1/X00/00/00/x")]
    [InlineData("/averyveryverylonggroupname/M00/00/00/x")]
    [InlineData("/group1")]
    public void Anything_but_a_plain_file_id_is_refused(string path) =>
        Assert.False(FileUrl.TryParse(path, urlHaveGroupName: true, "group1", out _));
}

public class HttpConfigTests
{
    [Fact]
    public void Stock_http_conf_included_from_storage_conf_is_read()
    {
        using var dir = new TempConfDir();
        dir.Write("http.conf", SampleConfs.Http + """

            http.anti_steal.token_check_fail = /var/www/anti-steal.jpg
            http.multi_range.enabled = false
            """);
        var storage = StorageConfig.Load(dir.Write("storage.conf", """
            base_path = /tmp/fdfs-s
            tracker_server = 10.0.0.1:22122
            http.server_port = 8081
            http.response_mode = proxy
            http.url_have_group_name = false
            http.upload.secret_key = up
            #include http.conf
            """));

        var h = storage.Http;
        Assert.Equal(8081, storage.HttpServerPort);
        Assert.True(h.Enabled);
        Assert.True(h.AntiStealCheckToken);
        Assert.Equal(900, h.AntiStealTokenTtl);
        Assert.Equal("FastDFS1234567890", h.AntiStealSecretKey);
        Assert.Equal("/var/www/anti-steal.jpg", h.AntiStealTokenCheckFail);
        Assert.Equal(Path.Combine(dir.Root, "mime.types"), h.MimeTypesFilename);
        Assert.False(h.MultiRangeEnabled);
        Assert.False(h.UrlHaveGroupName);
        Assert.Equal(HttpResponseMode.Proxy, h.ResponseMode);
        Assert.Equal("up", h.UploadSecretKey);
    }

    [Fact]
    public void Defaults_file_configs_serve_http_and_code_defaults_do_not()
    {
        var fromFile = TrackerConfig.FromIni(IniFile.Parse("base_path = /tmp/t"));
        Assert.True(fromFile.Http.Enabled);
        Assert.Equal(8080, fromFile.HttpServerPort);
        Assert.Equal(8888, fromFile.Http.StorageServerPort);
        Assert.Equal(HttpResponseMode.Redirect, fromFile.Http.ResponseMode);
        Assert.True(fromFile.Http.MultiRangeEnabled);
        Assert.Null(fromFile.Http.MimeTypesFilename);
        Assert.Equal("", fromFile.Http.UploadSecretKey);
        Assert.False(TrackerConfig.Default("/tmp/t").Http.Enabled);
    }

    [Fact]
    public void Tls_admin_key_and_upload_size_keys_are_read_with_paths_beside_the_conf()
    {
        using var dir = new TempConfDir();
        var tracker = TrackerConfig.Load(dir.Write("tracker.conf", """
            base_path = /tmp/fdfs-t
            http.ssl_certificate = certs/server.crt
            http.ssl_certificate_key = /etc/ssl/server.key
            http.admin.secret_key = adm
            http.upload.max_size = 200MB
            """));
        Assert.Equal(Path.Combine(dir.Root, "certs/server.crt"), tracker.Http.SslCertificate);
        Assert.Equal("/etc/ssl/server.key", tracker.Http.SslCertificateKey);
        Assert.True(tracker.Http.UsesTls);
        Assert.Equal("adm", tracker.Http.AdminSecretKey);
        Assert.Equal(200L << 20, tracker.Http.UploadMaxSize);

        var plain = TrackerConfig.FromIni(IniFile.Parse("base_path = /tmp/t"));
        Assert.False(plain.Http.UsesTls);
        Assert.Equal("", plain.Http.AdminSecretKey);
        Assert.Equal(1L << 30, plain.Http.UploadMaxSize);
        Assert.Equal(0, TrackerConfig.FromIni(IniFile.Parse("base_path = /tmp/t\nhttp.upload.max_size = 0")).Http.UploadMaxSize);
        Assert.Throws<ConfigException>(() => TrackerConfig.FromIni(IniFile.Parse("base_path = /tmp/t\nhttp.ssl_certificate_key = k.pem")));
    }

    [Theory]
    [InlineData("http.server_port = 0")]
    [InlineData("http.disabled = true")]
    public void Port_zero_or_disabled_turns_http_off(string line) =>
        Assert.False(TrackerConfig.FromIni(IniFile.Parse("base_path = /tmp/t\n" + line)).Http.Enabled);

    [Theory]
    [InlineData("http.anti_steal.check_token = true", "http.anti_steal.secret_key")]
    [InlineData("http.response_mode = bounce", "http.response_mode")]
    public void Bad_values_are_config_errors(string line, string key) =>
        ConfAssert.ThrowsFor(key, () => TrackerConfig.FromIni(IniFile.Parse("base_path = /tmp/t\n" + line)));
}
