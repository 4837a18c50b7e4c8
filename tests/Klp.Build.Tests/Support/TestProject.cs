namespace Klp.Build.Tests.Support;

/// <summary>A .klpproj in a fresh temporary folder, outside the repository, wired to the local feed.</summary>
public sealed class TestProject : IDisposable
{
    public string Directory { get; }
    public string ProjectPath { get; }

    public TestProject(string name, string projectBody, params (string File, string Text)[] files)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory($"klp-{name}-").FullName;
        ProjectPath = Path.Combine(Directory, name + ".klpproj");
        WriteFeedConfiguration();
        File.WriteAllText(ProjectPath, $"""
            <Project Sdk="Klp.Build.Sdk">
            {projectBody}
            </Project>
            """);
        foreach (var (file, text) in files) Write(file, text);
    }

    private TestProject(string directory, string projectPath)
    {
        Directory = directory;
        ProjectPath = projectPath;
    }

    /// <summary>Copies a sample's folder (project, sources, checks) into a fresh folder, optionally retargeted.</summary>
    public static TestProject FromSample(string sample, string? kernelRelease = null)
    {
        var source = Path.Combine(RepositoryLayout.Samples, sample);
        var directory = System.IO.Directory.CreateTempSubdirectory($"klp-{sample}-").FullName;
        foreach (var file in System.IO.Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories)
                     .Where(f => !f.Contains("/bin/") && !f.Contains("/obj/")))
        {
            var target = Path.Combine(directory, Path.GetRelativePath(source, file));
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
        var project = new TestProject(directory, System.IO.Directory.GetFiles(directory, "*.klpproj").Single());
        project.WriteFeedConfiguration();
        if (kernelRelease is not null)
            File.WriteAllText(project.ProjectPath, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(project.ProjectPath),
                "<KernelRelease>[^<]*</KernelRelease>", $"<KernelRelease>{kernelRelease}</KernelRelease>"));
        return project;
    }

    private void WriteFeedConfiguration()
    {
        File.WriteAllText(Path.Combine(Directory, "global.json"),
            $$"""{ "msbuild-sdks": { "Klp.Build.Sdk": "{{RepositoryLayout.SdkVersion}}" } }""");
        File.WriteAllText(Path.Combine(Directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="klp-local" value="{RepositoryLayout.Feed}" />
              </packageSources>
            </configuration>
            """);
    }

    public string Write(string file, string text)
    {
        var path = Path.Combine(Directory, file);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public BuildResult Build(params string[] arguments) => DotnetBuild.Run(ProjectPath, arguments);

    public BuildResult Build(IDictionary<string, string?> environment, params string[] arguments) =>
        DotnetBuild.Run(ProjectPath, arguments, environment);

    public string OutputDirectory(string release, string configuration = "Debug") =>
        Path.Combine(Directory, "bin", configuration, release);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
