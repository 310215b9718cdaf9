using System.Globalization;
using FastDfs.Protocol;

namespace FastDfs.Storage.Tests.Sync;

/// <summary>A frame of a stock capture (shared/testdata/*.hex) with the endpoints it travelled between.</summary>
internal sealed record SyncFrame(bool IsRequest, string From, string To, byte[] Bytes)
{
    public PacketHeader Header => PacketHeader.Read(Bytes);

    public bool IsComplete => Bytes.Length == ProtocolConstants.HeaderSize + Header.BodyLength;
}

internal static class SyncCapture
{
    public static string TestDataPath(string name)
    {
        string? fromEnv = Environment.GetEnvironmentVariable("FASTDFS_TESTDATA");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return Path.Combine(fromEnv, name);
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "testdata");
            if (File.Exists(Path.Combine(candidate, "file-ids.tsv")))
            {
                return Path.Combine(candidate, name);
            }
        }

        throw new InvalidOperationException("shared/testdata not found: set FASTDFS_TESTDATA");
    }

    public static List<SyncFrame> Load(string name)
    {
        var frames = new List<SyncFrame>();
        bool? isRequest = null;
        string from = "", to = "";
        var bytes = new List<byte>();
        void Flush()
        {
            if (isRequest is { } request && bytes.Count > 0)
            {
                frames.Add(new SyncFrame(request, from, to, [.. bytes]));
            }

            bytes.Clear();
        }

        foreach (string raw in File.ReadLines(TestDataPath(name)))
        {
            string line = raw.Trim();
            if (line.StartsWith('>') || line.StartsWith('<'))
            {
                Flush();
                isRequest = line[0] == '>';
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                from = parts[2];
                to = parts[4];
            }
            else if (line.Length > 0 && !line.StartsWith('#') && isRequest is not null)
            {
                bytes.AddRange(line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(h => byte.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
            }
        }

        Flush();
        return frames;
    }

    /// <summary>Each request with the status stock answered it with (the next reply to the same connection).</summary>
    public static List<(SyncFrame Request, byte Status)> RequestsWithReplies(List<SyncFrame> frames)
    {
        var used = new HashSet<SyncFrame>();
        var result = new List<(SyncFrame, byte)>();
        for (int i = 0; i < frames.Count; i++)
        {
            var request = frames[i];
            if (!request.IsRequest || request.Header.Cmd == FdfsCommand.Quit)
            {
                continue;
            }

            var reply = frames.Skip(i + 1).First(f => !f.IsRequest && f.To == request.From && used.Add(f));
            result.Add((request, reply.Header.Status));
        }

        return result;
    }
}
