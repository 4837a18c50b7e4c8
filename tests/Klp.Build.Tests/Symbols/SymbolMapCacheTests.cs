using Klp.Build.Diagnostics;
using Klp.Build.Symbols;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Symbols;

/// <summary>The cache on the real 6.1 vmlinux and a few of its modules copied to a folder of their own.</summary>
public sealed class SymbolMapCacheTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly string _modules;
    private readonly SymbolMapInputs _inputs;
    private int _generated;

    public SymbolMapCacheTests()
    {
        var release = TestKernels.NewestRelease("6.1");
        var image = Path.Combine(TestKernels.ImageRoot(release), "lib", "modules", release, "kernel");
        _modules = Path.Combine(_temp.Path, "modules");
        Directory.CreateDirectory(_modules);
        foreach (var module in SymbolMapInputs.FindModules(image).Take(3))
            File.Copy(module, Path.Combine(_modules, Path.GetFileName(module)));
        _inputs = SymbolMapInputs.Create(TestKernels.DebugVmlinux(release), _modules);
    }

    public void Dispose() => _temp.Dispose();

    private SymbolMapCache NewCache() => new(Path.Combine(_temp.Path, "cache"), (inputs, diagnostics, token) =>
    {
        Interlocked.Increment(ref _generated);
        return SymbolMapGenerator.Generate(inputs, diagnostics, token);
    });

    [Fact]
    public void CacheHitLoadsWithoutGeneratingOrRewriting()
    {
        var first = NewCache();
        var made = first.GetOrCreate(_inputs, new DiagnosticBag()).ShouldNotBeNull();
        first.LastWasHit.ShouldBeFalse();
        _generated.ShouldBe(1);
        var written = (File.GetLastWriteTimeUtc(first.TextPath), File.GetLastWriteTimeUtc(first.BinaryPath));

        var second = NewCache();
        var loaded = second.GetOrCreate(_inputs, new DiagnosticBag()).ShouldNotBeNull();
        second.LastWasHit.ShouldBeTrue();
        _generated.ShouldBe(1);
        (File.GetLastWriteTimeUtc(second.TextPath), File.GetLastWriteTimeUtc(second.BinaryPath)).ShouldBe(written);
        loaded.Objects.Select(o => o.Name).ShouldBe(made.Objects.Select(o => o.Name));
        loaded.Objects[1].Symbols.ShouldBe(made.Objects[1].Symbols);
        loaded.Find(KernelSymbolMap.Vmlinux)!.Occurrences("type_show").Select(o => o.Symbol.Address)
            .ShouldBe(made.Find(KernelSymbolMap.Vmlinux)!.Occurrences("type_show").Select(o => o.Symbol.Address));

        // The text file is klp-convert's format and reads back as the same map.
        var text = KernelSymbolMap.Read(second.TextPath, new DiagnosticBag()).ShouldNotBeNull();
        text.Objects.Select(o => o.Symbols.Count).ShouldBe(made.Objects.Select(o => o.Symbols.Count));
    }

    [Fact]
    public void ChangedModuleRegenerates()
    {
        NewCache().GetOrCreate(_inputs, new DiagnosticBag()).ShouldNotBeNull();
        var module = _inputs.ModuleFiles[0];
        File.SetLastWriteTimeUtc(module, File.GetLastWriteTimeUtc(module).AddMinutes(1));
        var cache = NewCache();
        cache.GetOrCreate(_inputs, new DiagnosticBag()).ShouldNotBeNull();
        cache.LastWasHit.ShouldBeFalse();
        _generated.ShouldBe(2);
    }

    [Fact]
    public void AddedModuleRegenerates()
    {
        NewCache().GetOrCreate(_inputs, new DiagnosticBag()).ShouldNotBeNull();
        File.Copy(_inputs.ModuleFiles[0], Path.Combine(_modules, "copy-of-module.ko"));
        var inputs = SymbolMapInputs.Create(_inputs.Vmlinux, _modules);
        var cache = NewCache();
        var map = cache.GetOrCreate(inputs, new DiagnosticBag()).ShouldNotBeNull();
        cache.LastWasHit.ShouldBeFalse();
        map.Objects.Count.ShouldBe(_inputs.ModuleFiles.Count + 1); // same .modinfo name: listed once
    }

    [Fact]
    public void DamagedSidecarRegenerates()
    {
        var first = NewCache();
        first.GetOrCreate(_inputs, new DiagnosticBag()).ShouldNotBeNull();
        var bytes = File.ReadAllBytes(first.BinaryPath);
        File.WriteAllBytes(first.BinaryPath, bytes[..(bytes.Length / 2)]);
        SymbolMapBinary.Read(first.BinaryPath, out _).ShouldBeNull();

        var cache = NewCache();
        cache.GetOrCreate(_inputs, new DiagnosticBag()).ShouldNotBeNull();
        cache.LastWasHit.ShouldBeFalse();
        _generated.ShouldBe(2);
        SymbolMapBinary.Read(cache.BinaryPath, out _).ShouldNotBeNull();
    }

    [Fact]
    public void TwoBuildsAtOnceGenerateOnce()
    {
        var maps = Enumerable.Range(0, 2).AsParallel().Select(_ => NewCache().GetOrCreate(_inputs, new DiagnosticBag())).ToList();
        maps.ShouldAllBe(m => m != null);
        _generated.ShouldBe(1);
    }
}
