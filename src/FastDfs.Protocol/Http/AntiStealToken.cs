using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FastDfs.Protocol.Http;

/// <summary>Why a token was refused (stock's errno in brackets).</summary>
public enum TokenCheck
{
    Valid,

    /// <summary>Missing or not 32 characters (EINVAL).</summary>
    Malformed,

    /// <summary><c>now − ts &gt; token_ttl</c> (ETIMEDOUT).</summary>
    Expired,

    /// <summary>Does not match (EPERM).</summary>
    Mismatch,
}

/// <summary>
/// The anti-steal token of spec 16.1: <c>lowercase_hex(md5(file_id + secret_key + decimal(ts)))</c>, sent as
/// <c>?token=…&amp;ts=…</c>. <c>file_id</c> includes the group.
/// </summary>
public static class AntiStealToken
{
    public const int Length = 32;

    public static string Compute(string fileId, string secretKey, long timestamp)
    {
        ArgumentNullException.ThrowIfNull(fileId);
        ArgumentNullException.ThrowIfNull(secretKey);
        var input = Encoding.UTF8.GetBytes(fileId + secretKey + timestamp.ToString(CultureInfo.InvariantCulture));
#if NET9_0_OR_GREATER
        return Convert.ToHexStringLower(MD5.HashData(input));
#else
        return Convert.ToHexString(MD5.HashData(input)).ToLowerInvariant();
#endif
    }

    /// <summary>Checks as stock does: length first, then the age (a ts of 0 never expires), then the digest.
    /// A ts that is not a number counts as 0, like C's atoi.</summary>
    public static TokenCheck Check(string fileId, string secretKey, string? token, string? timestamp, long now, int ttlSeconds)
    {
        if (token is null || token.Length != Length)
        {
            return TokenCheck.Malformed;
        }

        long ts = ParseLeadingInteger(timestamp);
        if (ts != 0 && now - ts > ttlSeconds)
        {
            return TokenCheck.Expired;
        }

        var expected = Encoding.ASCII.GetBytes(Compute(fileId, secretKey, ts));
        var given = Encoding.ASCII.GetBytes(token);
        return CryptographicOperations.FixedTimeEquals(expected, given) ? TokenCheck.Valid : TokenCheck.Mismatch;
    }

    /// <summary>A short reason for the 403 body.</summary>
    public static string Describe(TokenCheck result) => result switch
    {
        TokenCheck.Valid => "token valid",
        TokenCheck.Malformed => "missing or malformed token (expected token=<32 hex>&ts=<unix seconds>)",
        TokenCheck.Expired => "token expired",
        _ => "token does not match",
    };

    private static long ParseLeadingInteger(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }

        var span = text.AsSpan().TrimStart();
        int end = span.Length > 0 && span[0] is '-' or '+' ? 1 : 0;
        while (end < span.Length && char.IsAsciiDigit(span[end]))
        {
            end++;
        }

        return long.TryParse(span[..end], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value : 0;
    }
}
