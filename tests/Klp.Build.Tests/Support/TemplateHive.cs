using Klp.Build.Processes;

namespace Klp.Build.Tests.Support;

/// <summary>
/// A private dotnet new template store (its own DOTNET_CLI_HOME) with the repository's template package installed
/// from the local feed, so the user's own templates are neither used nor changed.
/// </summary>
public sealed class TemplateHive : IDisposable
{
    private readonly List<string> created = [];

    public string Home { get; } = Directory.CreateTempSubdirectory("klp-template-hive-").FullName;

    public TemplateHive()
    {
        TemplatePackage.EnsurePacked();
        var install = Run(Home, "install", $"{TemplatePackage.Id}@{RepositoryLayout.SdkVersion}", "--add-source", RepositoryLayout.Feed);
        if (!install.Succeeded) throw new InvalidOperationException("dotnet new install failed:\n" + install.StandardOutput + install.StandardError);
        if (!Directory.Exists(Path.Combine(Home, ".templateengine")))
            throw new InvalidOperationException($"dotnet new installed the templates outside the private hive {Home}");
    }

    /// <summary>`dotnet new &lt;template&gt; -n &lt;name&gt; &lt;arguments&gt;` in a fresh folder; returns the project folder.</summary>
    public (ProcessResult Result, string Directory) New(string template, string name, params string[] arguments)
    {
        var parent = Directory.CreateTempSubdirectory($"klp-new-{template}-").FullName;
        created.Add(parent);
        var result = Run(parent, [template, "-n", name, .. arguments]);
        return (result, Path.Combine(parent, name));
    }

    private ProcessResult Run(string workingDirectory, params string[] arguments) =>
        ProcessRunner.Run("dotnet", ["new", .. arguments], workingDirectory, new Dictionary<string, string?>
        {
            ["DOTNET_CLI_HOME"] = Home,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        }, TimeSpan.FromMinutes(5));

    public void Dispose()
    {
        foreach (var directory in created.Append(Home))
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
    }
}
