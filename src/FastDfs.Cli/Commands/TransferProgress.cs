using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace FastDfs.Cli.Commands;

/// <summary>
/// The progress bar of uploads and downloads: drawn on stderr, so that stdout stays the file ID or the file's bytes, and
/// only when stderr is a terminal, the file is at least <see cref="Threshold"/> bytes, <c>--no-progress</c> is not given
/// and <c>fdfs</c> was not started as a stock tool. Redrawn at most 10 times a second on one line (<c>\r</c>), erased
/// when the transfer ends.
/// </summary>
internal sealed class TransferProgress : IDisposable
{
    /// <summary>Smaller transfers end before a bar would say anything.</summary>
    public const long Threshold = 4L << 20;

    private const int BarWidth = 30;
    private static readonly long RedrawTicks = Stopwatch.Frequency / 10;

    private readonly TextWriter _terminal;
    private readonly string _label;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastDraw = -RedrawTicks;
    private int _lastWidth;

    private TransferProgress(TextWriter terminal, string label, long total)
    {
        _terminal = terminal;
        _label = label;
        _total = total;
    }

    public static Option<bool> NewOption() => new("--no-progress")
    {
        Description = "No progress bar (one is drawn on stderr for transfers of 4 MB or more when stderr is a terminal)",
    };

    /// <summary>
    /// Whether a bar may be drawn at all: stderr is this process's own and a terminal, no <c>--no-progress</c>, not a
    /// stock tool (a caller that must ask a server for the size asks only then).
    /// </summary>
    public static bool Wanted(ParseResult parse, Option<bool> noProgress) =>
        ReferenceEquals(parse.InvocationConfiguration.Error, Console.Error) && !Console.IsErrorRedirected &&
        !parse.GetValue(noProgress) && !StockToolNames.Active;

    /// <summary>A bar for a transfer of <paramref name="total"/> bytes, or null when none is to be drawn.</summary>
    public static TransferProgress? Start(ParseResult parse, Option<bool> noProgress, string label, long total) =>
        total >= Threshold && Wanted(parse, noProgress) ? new TransferProgress(parse.InvocationConfiguration.Error, label, total) : null;

    /// <summary><paramref name="inner"/> with its reads or writes counted on <paramref name="progress"/> (the stream itself when null).</summary>
    public static Stream Wrap(Stream inner, TransferProgress? progress) => progress is null ? inner : new CountingStream(inner, progress);

    private void Report(long done)
    {
        long now = _clock.ElapsedTicks;
        if (now - _lastDraw < RedrawTicks && done < _total)
        {
            return;
        }

        _lastDraw = now;
        double fraction = _total > 0 ? Math.Clamp((double)done / _total, 0, 1) : 0;
        int filled = (int)(fraction * BarWidth);
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
        string line = string.Create(CultureInfo.InvariantCulture,
            $"{_label} [{new string('#', filled)}{new string('.', BarWidth - filled)}] {fraction * 100,3:0}% " +
            $"{MonitorFormat.HumanBytes(done)} / {MonitorFormat.HumanBytes(_total)}, {MonitorFormat.HumanBytes((long)(done / seconds))}/s");
        _terminal.Write("\r" + line.PadRight(_lastWidth));
        _terminal.Flush();
        _lastWidth = line.Length;
    }

    /// <summary>Erases the bar.</summary>
    public void Dispose()
    {
        if (_lastWidth > 0)
        {
            _terminal.Write("\r" + new string(' ', _lastWidth) + "\r");
            _terminal.Flush();
        }
    }

    /// <summary>A pass-through stream that reports how far it has been read or written (its position when it can seek).</summary>
    private sealed class CountingStream(Stream inner, TransferProgress progress) : Stream
    {
        private long _count;

        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        private void Moved(int bytes)
        {
            _count += bytes;
            progress.Report(inner.CanSeek ? inner.Position : _count);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int read = inner.Read(buffer, offset, count);
            Moved(read);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            Moved(read);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            Moved(count);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            Moved(buffer.Length);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => inner.SetLength(value);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
