using System.CommandLine;
using FastDfs.Client;
using FastDfs.Protocol.Config;
using FastDfs.Protocol.FileIds;

namespace FastDfs.Cli.Commands;

/// <summary>
/// The options every client command takes (<c>--tracker host:port</c>, repeatable, or <c>--config client.conf</c>;
/// default 127.0.0.1:22122) and the shared run wrapper that prints errors like the stock tools.
/// </summary>
internal sealed class ClientConnection
{
    private readonly Option<string[]> _trackers = new("--tracker", "-t")
    {
        Description = "Tracker server host:port (repeatable); default 127.0.0.1:22122",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<string?> _config = new("--config", "-c")
    {
        Description = "Stock client.conf to read tracker_server and timeouts from",
    };

    /// <summary>Creates a command with the connection options attached.</summary>
    public static (Command Command, ClientConnection Connection) NewCommand(string name, string description)
    {
        var connection = new ClientConnection();
        var command = new Command(name, description) { connection._trackers, connection._config };
        return (command, connection);
    }

    public FastDfsClientOptions ResolveOptions(ParseResult parse)
    {
        string[] trackers = parse.GetValue(_trackers) ?? [];
        string? config = parse.GetValue(_config);
        var options = config != null ? FastDfsClientOptions.FromFile(config) : FastDfsClientOptions.Default;
        if (trackers.Length > 0)
        {
            options = options with { Trackers = trackers.Select(t => FastDfsEndpoint.Parse(t)).ToArray() };
        }

        return options;
    }

    /// <summary>
    /// Runs <paramref name="action"/> with a client; maps failures to stderr text and exit codes: the errno for
    /// server and connection errors (<c>error no: N, error info: ...</c>), 2 for usage errors, 1 otherwise.
    /// </summary>
    public Action<Command> Handle(Func<ParseResult, FastDfsClient, TextWriter, CancellationToken, Task<int>> action) =>
        command => command.SetAction(async (parse, ct) =>
        {
            var error = parse.InvocationConfiguration.Error;
            try
            {
                await using var client = new FastDfsClient(ResolveOptions(parse));
                return await action(parse, client, parse.InvocationConfiguration.Output, ct);
            }
            catch (FastDfsException ex)
            {
                await error.WriteLineAsync(StockToolNames.ErrorPrefix + ex.Message);
                return ex.ErrorCode is > 0 and < 256 ? ex.ErrorCode : 1;
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or ConfigException)
            {
                await error.WriteLineAsync($"fdfs: {ex.Message}");
                return 2;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"fdfs: {ex.Message}");
                return 1;
            }
        });

    /// <summary>The file IDs of a list file, one per line (<c>-</c> = standard input); blank lines and <c>#</c> comments skipped.</summary>
    public static async IAsyncEnumerable<string> ReadIdListAsync(string path, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var reader = path == "-" ? new StreamReader(Console.OpenStandardInput()) : new StreamReader(path);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Trim() is { Length: > 0 } id && !id.StartsWith('#'))
            {
                yield return id;
            }
        }
    }

    public static FileId ParseFileId(string text) => FileId.TryParse(text, out var id)
        ? id
        : throw new FormatException($"invalid file id '{text}': expected group/Mxx/HH/LL/name");
}
