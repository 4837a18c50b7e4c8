using BenchmarkDotNet.Attributes;
using Klp.Build.Diagnostics;
using Klp.Build.Symbols;

namespace Klp.Build.Benchmarks;

/// <summary>Warm path: the map of a whole kernel served from the cache (key check over every input file, then the sidecar).</summary>
[MemoryDiagnoser]
public class SymbolMapBenchmarks
{
    private SymbolMapInputs _inputs = null!;
    private string _directory = null!;

    [GlobalSetup]
    public void Setup()
    {
        _inputs = KernelInputs.Find();
        _directory = Directory.CreateTempSubdirectory("klp-bench-").FullName;
        new SymbolMapCache(_directory).GetOrCreate(_inputs, new DiagnosticBag());
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [Benchmark(Description = "warm load (cache hit)")]
    public KernelSymbolMap? WarmLoad()
    {
        var cache = new SymbolMapCache(_directory);
        var map = cache.GetOrCreate(_inputs, new DiagnosticBag());
        if (!cache.LastWasHit) throw new InvalidOperationException("expected a cache hit");
        return map;
    }

    [Benchmark(Description = "warm load + vmlinux lookup")]
    public int WarmLoadAndLookup() =>
        new SymbolMapCache(_directory).GetOrCreate(_inputs, new DiagnosticBag())!.Find(KernelSymbolMap.Vmlinux)!.Occurrences("type_show").Count;
}
