using FastDfs.Protocol;

namespace FastDfs.Cli.StockTools;

/// <summary>
/// <c>fdfs_crc32 &lt;filename&gt;</c>: the CRC32 of a local file (the one FastDFS keeps in file names and
/// fdfs_file_info prints) as lower-case hex without leading zeros, as stock prints it. A file that cannot be read:
/// <c>... fail, errno: N, error info: ...</c> on stdout and the errno as the exit code.
/// </summary>
internal static class Crc32Tool
{
    public static async Task<int> RunAsync(StockToolRun run)
    {
        if (run.Args.Count < 1)
        {
            await run.Output.WriteLineAsync($"Usage: {run.InvokedPath} <filename>");
            return 1;
        }

        string path = run.Args[0];
        if (Directory.Exists(path))
        {
            await run.Output.WriteLineAsync($"read file {path} fail, errno: {Errno.EISDIR}, error info: {Errno.Describe(Errno.EISDIR)}");
            return Errno.EISDIR;
        }

        try
        {
            var crc = new System.IO.Hashing.Crc32();
            await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan))
            {
                byte[] buffer = new byte[512 * 1024];
                int read;
                while ((read = await file.ReadAsync(buffer, run.Ct)) > 0)
                {
                    crc.Append(buffer.AsSpan(0, read));
                }
            }

            await run.Output.WriteLineAsync(crc.GetCurrentHashAsUInt32().ToString("x", System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            int errno = StockText.ErrnoOf(e);
            await run.Output.WriteLineAsync($"open file {path} fail, errno: {errno}, error info: {Errno.Describe(errno)}");
            return errno;
        }
    }
}
