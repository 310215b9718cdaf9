using System.Globalization;

using FastDfs.Protocol;

namespace FastDfs.Client.Tests.Golden;

/// <summary>Locates the captures from stock FastDFS (shared/testdata beside the repository).</summary>
public static class TestData
{
    public static string Directory { get; } = Locate();

    private static string Locate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("FASTDFS_TESTDATA");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "testdata");
            if (File.Exists(Path.Combine(candidate, "file-ids.tsv")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("shared/testdata not found: set FASTDFS_TESTDATA");
    }

    public static string PathOf(string name) => Path.Combine(Directory, name);
}

/// <summary>One frame of a .hex capture.</summary>
public sealed record CapturedFrame(bool IsRequest, string Title, byte[] Bytes)
{
    public PacketHeader Header => PacketHeader.Read(Bytes);

    public ReadOnlySpan<byte> Body => Bytes.AsSpan(ProtocolConstants.HeaderSize);

    /// <summary>True when the capture shows the whole body (long file content is cut in captures).</summary>
    public bool IsComplete => Bytes.Length - ProtocolConstants.HeaderSize == Header.BodyLength;
}

public static class HexCapture
{
    public static List<CapturedFrame> Load(string fileName)
    {
        var frames = new List<CapturedFrame>();
        bool? isRequest = null;
        string title = string.Empty;
        var bytes = new List<byte>();

        void Flush()
        {
            if (isRequest.HasValue && bytes.Count > 0)
            {
                frames.Add(new CapturedFrame(isRequest.Value, title, bytes.ToArray()));
            }

            bytes.Clear();
        }

        foreach (string raw in File.ReadLines(TestData.PathOf(fileName)))
        {
            string line = raw.Trim();
            if (line.StartsWith('>') || line.StartsWith('<'))
            {
                Flush();
                isRequest = line[0] == '>';
                title = line;
            }
            else if (line.StartsWith("# header:", StringComparison.Ordinal))
            {
                title += " " + line;
            }
            else if (line.Length > 0 && !line.StartsWith('#') && isRequest.HasValue)
            {
                foreach (string hex in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    bytes.Add(byte.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                }
            }
        }

        Flush();
        return frames;
    }
}
