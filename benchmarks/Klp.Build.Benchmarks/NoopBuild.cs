using System.Diagnostics;
using Klp.Build.Processes;

namespace Klp.Build.Benchmarks;

/// <summary>
/// `--noop [runs] [sample]`: wall time of a no-op `dotnet build -v:m` of a built sample against the same no-op build
/// of an empty Microsoft.Build.NoTargets project, both in temporary folders on this machine, with and without
/// MSBuild node reuse. Runs alternate between the two projects so that load on a shared machine hits both alike;
/// the medians are what count. Takes the SDK from artifacts/feed (run eng/pack-sdk.sh first).
/// </summary>
public static class NoopBuild
{
    private const string NoTargetsVersion = "3.7.0";

    public static void Run(int runs, string sample)
    {
        var root = RepositoryRoot();
        var feed = Path.Combine(root, "artifacts", "feed");
        if (!Directory.Exists(feed) || Directory.GetFiles(feed, "Klp.Build.Sdk.*.nupkg").Length == 0)
            throw new InvalidOperationException($"no Klp.Build.Sdk package in {feed}: run eng/pack-sdk.sh first");
        var work = Directory.CreateTempSubdirectory("klp-noop-").FullName;
        try
        {
            var nugetConfig = $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="klp-local" value="{feed}" />
                    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
                  </packageSources>
                </configuration>
                """;
            var klp = CopySample(Path.Combine(root, "samples", sample), Path.Combine(work, sample), nugetConfig,
                $$"""{ "msbuild-sdks": { "Klp.Build.Sdk": "{{SdkVersion(feed)}}" } }""");
            var empty = Path.Combine(work, "empty");
            Directory.CreateDirectory(empty);
            File.WriteAllText(Path.Combine(empty, "nuget.config"), nugetConfig);
            File.WriteAllText(Path.Combine(empty, "global.json"), $$"""{ "msbuild-sdks": { "Microsoft.Build.NoTargets": "{{NoTargetsVersion}}" } }""");
            var emptyProject = Path.Combine(empty, "empty.proj");
            File.WriteAllText(emptyProject, """
                <Project Sdk="Microsoft.Build.NoTargets">
                  <PropertyGroup><TargetFramework>net10.0</TargetFramework></PropertyGroup>
                </Project>
                """);
            var packages = Path.Combine(root, "artifacts", "nuget-packages");
            Console.WriteLine($"no-op dotnet build -v:m, {runs} runs each, {Environment.ProcessorCount} cores, load {LoadAverage()}");
            Console.WriteLine($"  {sample}: {klp}\n  empty NoTargets {NoTargetsVersion}: {emptyProject}");

            foreach (var nodeReuse in new[] { false, true })
            {
                var flags = nodeReuse ? new[] { "-nodeReuse:true" } : ["-nodeReuse:false", "--disable-build-servers"];
                // The first builds restore, compile and fill caches: not timed.
                foreach (var project in new[] { klp, emptyProject }) Build(project, flags, packages, nodeReuse, expectNoOp: false);
                var times = new Dictionary<string, List<double>> { [klp] = [], [emptyProject] = [] };
                for (var i = 0; i < runs; i++)
                    foreach (var project in i % 2 == 0 ? new[] { klp, emptyProject } : [emptyProject, klp])
                        times[project].Add(Build(project, flags, packages, nodeReuse, expectNoOp: true));
                var sampleMedian = Median(times[klp]);
                var emptyMedian = Median(times[emptyProject]);
                var label = nodeReuse ? "node reuse" : "-nodeReuse:false";
                Console.WriteLine($"{label,-18} {sample,-10} median {sampleMedian,6:F2} s  [{string.Join(' ', times[klp].Select(t => t.ToString("F2")))}]");
                Console.WriteLine($"{label,-18} {"empty",-10} median {emptyMedian,6:F2} s  [{string.Join(' ', times[emptyProject].Select(t => t.ToString("F2")))}]");
                Console.WriteLine($"{label,-18} difference {sampleMedian - emptyMedian,6:F2} s (goal: under 2 s)");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static double Build(string project, string[] flags, string packages, bool nodeReuse, bool expectNoOp)
    {
        var environment = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = packages,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["MSBUILDDISABLENODEREUSE"] = nodeReuse ? "0" : "1",
        };
        var watch = Stopwatch.StartNew();
        var result = ProcessRunner.Run("dotnet", ["build", project, "-v:m", .. flags], Path.GetDirectoryName(project), environment, TimeSpan.FromMinutes(15));
        var seconds = watch.Elapsed.TotalSeconds;
        if (!result.Succeeded)
            throw new InvalidOperationException($"dotnet build {project} failed:\n{result.StandardOutput}{result.StandardError}");
        if (expectNoOp && result.StandardOutput.Contains(" -> ", StringComparison.Ordinal))
            throw new InvalidOperationException($"the build of {project} was not a no-op:\n{result.StandardOutput}");
        return seconds;
    }

    private static string CopySample(string source, string destination, string nugetConfig, string globalJson)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/bin/") && !f.Contains("/obj/")))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        File.WriteAllText(Path.Combine(destination, "nuget.config"), nugetConfig);
        File.WriteAllText(Path.Combine(destination, "global.json"), globalJson);
        return Directory.GetFiles(destination, "*.klpproj").Single();
    }

    private static string SdkVersion(string feed) =>
        Directory.GetFiles(feed, "Klp.Build.Sdk.*.nupkg").Select(f => Path.GetFileNameWithoutExtension(f)["Klp.Build.Sdk.".Length..])
            .OrderBy(v => Version.TryParse(v, out var parsed) ? parsed : new Version()).Last();

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "Klp.Build.slnx"))) return directory.FullName;
        throw new InvalidOperationException("run the benchmark from inside the repository (no Klp.Build.slnx above " + AppContext.BaseDirectory + ")");
    }
}
