namespace FastDfs.Storage.Tests;

/// <summary>Tests that measure process-wide figures (allocated bytes) run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NonParallelCollection
{
    public const string Name = "NonParallel";
}
