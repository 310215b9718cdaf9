using System.Globalization;
using FastDfs.Protocol;

namespace FastDfs.TestSupport;

/// <summary>One frame of a .hex capture, with the endpoints it travelled between.</summary>
public sealed record CapturedFrame(bool IsRequest, string Title, string From, string To, byte[] Bytes)
{
    public PacketHeader Header => PacketHeader.Read(Bytes);

    public ReadOnlySpan<byte> Body => Bytes.AsSpan(ProtocolConstants.HeaderSize);

    /// <summary>True when the capture shows the whole body (long file content is cut in captures).</summary>
    public bool IsComplete => Bytes.Length - ProtocolConstants.HeaderSize == Header.BodyLength;
}

/// <summary>Reads the capture format of this project's <c>testdata</c> folder (see its README): direction lines, then hex bytes.</summary>
public static class HexCapture
{
    public static List<CapturedFrame> Load(string fileName)
    {
        var frames = new List<CapturedFrame>();
        bool? isRequest = null;
        string title = string.Empty, from = string.Empty, to = string.Empty;
        var bytes = new List<byte>();

        void Flush()
        {
            if (isRequest.HasValue && bytes.Count > 0)
            {
                frames.Add(new CapturedFrame(isRequest.Value, title, from, to, bytes.ToArray()));
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
                // "> storage->storage  10.77.0.2:54655 -> 10.77.0.3:23000"
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                from = parts.Length > 2 ? parts[2] : string.Empty;
                to = parts.Length > 4 ? parts[4] : string.Empty;
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

    /// <summary>Each request with the status stock answered it with (the next reply on the same connection).</summary>
    public static List<(CapturedFrame Request, byte Status)> RequestsWithReplies(IReadOnlyList<CapturedFrame> frames)
    {
        var used = new HashSet<CapturedFrame>();
        var result = new List<(CapturedFrame, byte)>();
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
