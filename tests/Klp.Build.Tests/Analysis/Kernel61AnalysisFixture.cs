using System.Diagnostics;
using Klp.Build.Analysis;
using Klp.Build.Diagnostics;
using Klp.Build.Processes;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Analysis;

/// <summary>The real Debian 6.1 amd64 vmlinux (-dbg) loaded once for the analysis tests; the callers index made cold, then reloaded warm.</summary>
public sealed class Kernel61AnalysisFixture : IDisposable
{
    private readonly string _cacheDirectory = Directory.CreateTempSubdirectory("klp-analysis-").FullName;

    public Kernel61AnalysisFixture()
    {
        Release = TestKernels.NewestRelease("6.1");
        Vmlinux = TestKernels.DebugVmlinux(Release);
        var cache = new CallersIndexCache(_cacheDirectory);
        Facts = TargetFacts.LoadVmlinux(Release, Vmlinux, Diagnostics, cache) ?? throw new InvalidOperationException(string.Join('\n', Diagnostics.Items));
        ColdHit = cache.LastWasHit;
        ColdCallers = Facts.Timings["callers"];
        var watch = Stopwatch.StartNew();
        WarmIndex = new CallersIndexCache(_cacheDirectory).GetOrCreate(Vmlinux, Facts.Vmlinux.Code);
        WarmCallers = watch.Elapsed;
        Console.WriteLine($"analysis facts for {Release}: read {Facts.Timings["read"].TotalMilliseconds:F0} ms, callers index cold {ColdCallers.TotalMilliseconds:F0} ms ({Facts.Vmlinux.Callers.Count} sites), warm {WarmCallers.TotalMilliseconds:F0} ms, kallsyms {Facts.Timings["symbols"].TotalMilliseconds:F0} ms");
    }

    public string Release { get; }
    public string Vmlinux { get; }
    public DiagnosticBag Diagnostics { get; } = new();
    public TargetFacts Facts { get; }
    public bool ColdHit { get; }
    public TimeSpan ColdCallers { get; }
    public TimeSpan WarmCallers { get; }
    public CallersIndex WarmIndex { get; }

    public SafetyReport Analyze(params PatchedFunctionRequest[] requests) =>
        LivepatchSafetyAnalyzer.Analyze(Facts, requests, null, new DiagnosticBag());

    /// <summary>objdump -d of [start, end) of the vmlinux, one line per instruction.</summary>
    public IReadOnlyList<string> Objdump(ulong start, ulong end, string? file = null)
    {
        var run = ProcessRunner.Run("objdump", ["-d", "--no-show-raw-insn", $"--start-address=0x{start:x}", $"--stop-address=0x{end:x}", file ?? Vmlinux]);
        if (!run.Succeeded) throw new InvalidOperationException(run.StandardError);
        return run.StandardOutput.Split('\n').Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^\s*[0-9a-f]+:\t")).ToList();
    }

    public void Dispose() => Directory.Delete(_cacheDirectory, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class Kernel61AnalysisCollection : ICollectionFixture<Kernel61AnalysisFixture>
{
    public const string Name = "Debian 6.1 analysis";
}
