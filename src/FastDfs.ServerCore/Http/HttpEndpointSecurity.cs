using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FastDfs.Protocol.Config;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FastDfs.ServerCore.Http;

/// <summary>
/// The HTTP ports' own protection, the same on tracker and storage: TLS from PEM files (<c>http.ssl_certificate</c>,
/// <c>http.ssl_certificate_key</c>) and the administration key (<c>http.admin.secret_key</c>) in front of the dashboard,
/// <c>/api/*</c> and <c>/metrics</c>.
/// </summary>
public static class HttpEndpointSecurity
{
    /// <summary>HTTP/1.1 on <paramref name="listen"/>, with TLS when the configuration names a certificate.</summary>
    /// <exception cref="ConfigException">The certificate or key cannot be read.</exception>
    public static void Configure(ListenOptions listen, HttpConfig config)
    {
        listen.Protocols = HttpProtocols.Http1;
        if (config.SslCertificate is { } certificate)
        {
            listen.UseHttps(LoadCertificate(certificate, config.SslCertificateKey));
        }
    }

    /// <summary>A PEM certificate and its PEM key (or a PEM file holding both), ready for Kestrel.</summary>
    /// <exception cref="ConfigException">Missing, unreadable or not PEM (an encrypted key is not supported).</exception>
    public static X509Certificate2 LoadCertificate(string certificatePath, string? keyPath)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            // A PEM key is ephemeral; a PKCS#12 round trip gives Kestrel a key it can use on every platform.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new ConfigException($"cannot load the TLS certificate {certificatePath}" +
                (keyPath is null ? "" : $" with the key {keyPath}") + $": {e.Message}", key: "http.ssl_certificate", innerException: e);
        }
    }

    /// <summary>
    /// Adds the check of <c>http.admin.secret_key</c>: a request for a path <paramref name="isGuarded"/> accepts without
    /// <c>Authorization: Bearer &lt;key&gt;</c> or Basic credentials whose password is the key gets 401 (with a Basic
    /// challenge, so a browser asks for it). Nothing when no key is configured.
    /// </summary>
    public static void UseAdminKey(IApplicationBuilder app, string secretKey, Func<string, bool> isGuarded)
    {
        if (secretKey.Length == 0)
        {
            return;
        }

        byte[] expected = Encoding.UTF8.GetBytes(secretKey);
        app.Use(async (context, next) =>
        {
            if (isGuarded(context.Request.Path.Value ?? "/") && !CarriesKey(context.Request, expected))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Basic realm=\"FastDFS\", charset=\"UTF-8\"";
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("this page needs http.admin.secret_key (Bearer, or Basic with it as the password)\n",
                    context.RequestAborted).ConfigureAwait(false);
                return;
            }

            await next(context).ConfigureAwait(false);
        });
    }

    internal static bool CarriesKey(HttpRequest request, byte[] expected)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization.ToString(), out var header) || header.Parameter is not { } value)
        {
            return false;
        }

        byte[] given;
        if (header.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            given = Encoding.UTF8.GetBytes(value);
        }
        else if (header.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                string credentials = Encoding.UTF8.GetString(Convert.FromBase64String(value));
                int colon = credentials.IndexOf(':', StringComparison.Ordinal);
                given = Encoding.UTF8.GetBytes(colon < 0 ? credentials : credentials[(colon + 1)..]);
            }
            catch (FormatException)
            {
                return false;
            }
        }
        else
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(given, expected);
    }
}
