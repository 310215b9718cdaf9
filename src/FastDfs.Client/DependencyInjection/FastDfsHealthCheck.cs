using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FastDfs.Client;

/// <summary>
/// Asks a tracker for its groups (LIST_GROUPS): healthy when a tracker answers and every group has a readable storage,
/// degraded when a group has none (its files cannot be read), unhealthy when no tracker answers.
/// </summary>
public sealed class FastDfsHealthCheck(IFastDfsClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var groups = await client.ListGroupsAsync(cancellationToken).ConfigureAwait(false);
            var data = new Dictionary<string, object>();
            var withoutActive = new List<string>();
            foreach (var group in groups)
            {
                data[group.GroupName] = $"{group.ReadableServerCount} of {group.StorageCount} storage(s) readable, {group.WritableServerCount} writable, {group.FreeMb} MB free";
                if (group.ReadableServerCount == 0)
                {
                    withoutActive.Add(group.GroupName);
                }
            }

            return withoutActive.Count == 0
                ? HealthCheckResult.Healthy($"{groups.Count} group(s), each with a readable storage", data)
                : HealthCheckResult.Degraded($"no readable storage in {string.Join(", ", withoutActive)}", data: data);
        }
        catch (Exception e) when (e is FastDfsException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"no tracker answered: {e.Message}", e);
        }
    }
}

/// <summary>Adds <see cref="FastDfsHealthCheck"/> to the health checks.</summary>
public static class FastDfsHealthCheckBuilderExtensions
{
    /// <summary>Adds a check that asks a tracker for its groups (needs <see cref="FastDfsServiceCollectionExtensions.AddFastDfs(IServiceCollection, Action{FastDfsOptions})"/>).</summary>
    public static IHealthChecksBuilder AddFastDfs(this IHealthChecksBuilder builder, string name = "fastdfs", HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, provider => new FastDfsHealthCheck(provider.GetRequiredService<IFastDfsClient>()),
            failureStatus, tags, timeout));
    }
}
