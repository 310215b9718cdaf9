namespace FastDfs.Cli.Commands;

/// <summary>
/// The daemons run socket continuations on the socket engine's thread instead of hopping to the thread pool for
/// every receive and send: on this 2-core class of machine that hop (a futex wake and the pool's spinning) cost more
/// CPU than the FastDFS request itself (docs/benchmarks.md, "What changed for these figures"). .NET reads the setting
/// once, when the process first uses an asynchronous socket, so it is set before a host starts; a value the user
/// set in the environment (0 turns it off) wins. Client commands (upload, bench, ...) keep .NET's default.
/// </summary>
internal static class InlineSocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static void EnableUnlessSet()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}
