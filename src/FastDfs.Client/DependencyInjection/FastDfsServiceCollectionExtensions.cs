using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FastDfs.Client;

/// <summary>Registers one shared <see cref="FastDfsClient"/> (its connection pools serve the whole application) in a service collection.</summary>
public static class FastDfsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IFastDfsClient"/> and <see cref="FastDfsClient"/> (one instance, disposed with the container) with
    /// <see cref="FastDfsOptions"/> bound from <paramref name="configuration"/> (for example <c>configuration.GetSection("FastDfs")</c>)
    /// and validated when the host starts.
    /// </summary>
    public static IServiceCollection AddFastDfs(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<FastDfsOptions>().Bind(configuration).ValidateDataAnnotations().ValidateOnStart();
        return AddClient(services);
    }

    /// <summary>Registers <see cref="IFastDfsClient"/> and <see cref="FastDfsClient"/> with <see cref="FastDfsOptions"/> set by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddFastDfs(this IServiceCollection services, Action<FastDfsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<FastDfsOptions>().Configure(configure).ValidateDataAnnotations().ValidateOnStart();
        return AddClient(services);
    }

    private static IServiceCollection AddClient(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FastDfsOptions>, FastDfsOptionsValidator>());
        services.TryAddSingleton(provider => new FastDfsClient(provider.GetRequiredService<IOptions<FastDfsOptions>>().Value.ToClientOptions()));
        services.TryAddSingleton<IFastDfsClient>(provider => provider.GetRequiredService<FastDfsClient>());
        return services;
    }
}
