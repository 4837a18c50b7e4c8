namespace Klp.Build.Tests.Sdk;

/// <summary>Nested dotnet builds and VM boots share two cores: they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SdkCollection
{
    public const string Name = "dotnet build on real projects";
}
