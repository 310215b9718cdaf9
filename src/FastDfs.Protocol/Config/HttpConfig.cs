namespace FastDfs.Protocol.Config;

/// <summary>What a storage does with a request for a file it does not hold yet (replication lag).</summary>
public enum HttpResponseMode
{
    /// <summary>302 to the source storage named in the file ID.</summary>
    Redirect,

    /// <summary>Fetch from the source storage and relay the answer.</summary>
    Proxy,
}

/// <summary>
/// The <c>http.*</c> keys of stock http.conf (usually <c>#include</c>d from storage.conf/tracker.conf) plus
/// the few keys FastDFS.NET adds for its built-in HTTP server (docs/configuration.md). Shared by the
/// storage and the tracker; <see cref="StorageConfig.HttpServerPort"/> / <see cref="TrackerConfig.HttpServerPort"/>
/// give the port.
/// </summary>
public sealed record HttpConfig
{
    public const string DefaultContentTypeValue = "application/octet-stream";
    public const int DefaultTokenTtl = 600;

    /// <summary>
    /// Serve HTTP at all. A config read from a file serves unless <c>http.disabled = true</c> or
    /// <c>http.server_port = 0</c>; a config built in code (<c>Default(...)</c>) starts with HTTP off, and a
    /// port of 0 then means "any free port".
    /// </summary>
    public bool Enabled { get; init; }

    /// <summary><c>http.default_content_type</c>: for extensions the MIME map does not know.</summary>
    public string DefaultContentType { get; init; } = DefaultContentTypeValue;

    /// <summary><c>http.mime_types_filename</c> as a full path (apache mime.types format), or null for the built-in map.</summary>
    public string? MimeTypesFilename { get; init; }

    /// <summary><c>http.anti_steal.check_token</c>.</summary>
    public bool AntiStealCheckToken { get; init; }

    /// <summary><c>http.anti_steal.token_ttl</c> in seconds.</summary>
    public int AntiStealTokenTtl { get; init; } = DefaultTokenTtl;

    /// <summary><c>http.anti_steal.secret_key</c>; required when <see cref="AntiStealCheckToken"/>.</summary>
    public string AntiStealSecretKey { get; init; } = "";

    /// <summary><c>http.anti_steal.token_check_fail</c> as a full path: its content is the body of a refused request.</summary>
    public string? AntiStealTokenCheckFail { get; init; }

    /// <summary><c>http.multi_range.enabled</c>: answer <c>Range: bytes=a-b,c-d</c> with multipart/byteranges.</summary>
    public bool MultiRangeEnabled { get; init; } = true;

    /// <summary><c>http.url_have_group_name</c> (FastDFS.NET; the nginx module's <c>url_have_group_name</c>):
    /// URLs are <c>/group1/M00/…</c> (true) or <c>/M00/…</c> (false).</summary>
    public bool UrlHaveGroupName { get; init; } = true;

    /// <summary><c>http.response_mode</c> (FastDFS.NET; the nginx module's <c>response_mode</c>): <c>redirect</c> or <c>proxy</c>.</summary>
    public HttpResponseMode ResponseMode { get; init; } = HttpResponseMode.Redirect;

    /// <summary><c>http.upload.secret_key</c> (FastDFS.NET): the secret HTTP upload/delete requests carry in the
    /// <c>X-FastDFS-Secret</c> header. Empty = the upload and delete endpoints are off.</summary>
    public string UploadSecretKey { get; init; } = "";

    /// <summary>
    /// <c>http.ssl_certificate</c> (FastDFS.NET; nginx's name): a PEM certificate (chain) file, as a full path. When set,
    /// <c>http.server_port</c> serves HTTPS only, and redirects to other servers of the cluster say https.
    /// </summary>
    public string? SslCertificate { get; init; }

    /// <summary><c>http.ssl_certificate_key</c>: the PEM private key of <see cref="SslCertificate"/>, as a full path (empty:
    /// the key is in the certificate file).</summary>
    public string? SslCertificateKey { get; init; }

    /// <summary>Whether the HTTP port serves TLS.</summary>
    public bool UsesTls => SslCertificate is not null;

    /// <summary>
    /// <c>http.admin.secret_key</c> (FastDFS.NET): when set, the dashboard, <c>/api/*</c> and <c>/metrics</c> answer 401
    /// unless the request carries it (<c>Authorization: Bearer &lt;key&gt;</c>, or Basic with the key as password).
    /// Empty: open, as before.
    /// </summary>
    public string AdminSecretKey { get; init; } = "";

    /// <summary>The default of <see cref="UploadMaxSize"/>: 1 GiB.</summary>
    public const long DefaultUploadMaxSize = 1L << 30;

    /// <summary><c>http.upload.max_size</c> (FastDFS.NET, tracker side): the largest HTTP upload body in bytes; larger
    /// ones get 413. 0 = no limit.</summary>
    public long UploadMaxSize { get; init; } = DefaultUploadMaxSize;

    /// <summary><c>http.storage_server_port</c> (FastDFS.NET, tracker side): the storages' HTTP port used when a
    /// storage does not tell its own (a stock storage behind nginx).</summary>
    public int StorageServerPort { get; init; } = StorageConfig.DefaultHttpServerPort;

    public static HttpConfig Default { get; } = new();

    /// <exception cref="ConfigException">check_token without a secret, an unknown response_mode, a bad port.</exception>
    public static HttpConfig FromIni(IniFile ini)
    {
        ArgumentNullException.ThrowIfNull(ini);
        var g = ini.Global;
        var checkToken = g.GetBool("http.anti_steal.check_token", false);
        var secret = g.GetString("http.anti_steal.secret_key") ?? "";
        if (checkToken && secret.Length == 0)
        {
            throw new ConfigException("is required and must not be empty when http.anti_steal.check_token is true",
                g.Find("http.anti_steal.secret_key")?.File ?? ini.Path, g.Find("http.anti_steal.secret_key")?.Line ?? 0,
                "http.anti_steal.secret_key");
        }

        var mode = g.GetString("http.response_mode")?.Trim().ToLowerInvariant() switch
        {
            null or "" or "redirect" => HttpResponseMode.Redirect,
            "proxy" => HttpResponseMode.Proxy,
            _ => throw ConfigException.ForEntry(g.Find("http.response_mode")!, "must be redirect or proxy"),
        };

        var ttl = g.GetInt("http.anti_steal.token_ttl", DefaultTokenTtl);
        string? certificate = g.GetString("http.ssl_certificate") is { Length: > 0 } cert ? ConfigReading.ResolvePath(ini, cert) : null;
        string? certificateKey = g.GetString("http.ssl_certificate_key") is { Length: > 0 } key ? ConfigReading.ResolvePath(ini, key) : null;
        if (certificate is null && certificateKey is not null)
        {
            throw ConfigException.ForEntry(g.Find("http.ssl_certificate_key")!, "needs http.ssl_certificate");
        }

        return new HttpConfig
        {
            Enabled = !g.GetBool("http.disabled", false) && g.GetInt("http.server_port", 1) != 0,
            DefaultContentType = g.GetString("http.default_content_type") is { Length: > 0 } type ? type : DefaultContentTypeValue,
            MimeTypesFilename = g.GetString("http.mime_types_filename") is { Length: > 0 } mime ? ConfigReading.ResolvePath(ini, mime) : null,
            AntiStealCheckToken = checkToken,
            AntiStealTokenTtl = ttl > 0 ? ttl : DefaultTokenTtl,
            AntiStealSecretKey = secret,
            AntiStealTokenCheckFail = g.GetString("http.anti_steal.token_check_fail") is { Length: > 0 } fail
                ? ConfigReading.ResolvePath(ini, fail)
                : null,
            MultiRangeEnabled = g.GetBool("http.multi_range.enabled", true),
            UrlHaveGroupName = g.GetBool("http.url_have_group_name", true),
            ResponseMode = mode,
            UploadSecretKey = g.GetString("http.upload.secret_key") ?? "",
            SslCertificate = certificate,
            SslCertificateKey = certificateKey,
            AdminSecretKey = g.GetString("http.admin.secret_key") ?? "",
            UploadMaxSize = g.GetBytes("http.upload.max_size", DefaultUploadMaxSize) is var max and >= 0 ? max : DefaultUploadMaxSize,
            StorageServerPort = ConfigReading.Port(g, "http.storage_server_port", StorageConfig.DefaultHttpServerPort),
        };
    }
}
