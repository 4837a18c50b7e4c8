using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Tests.Elf;

namespace Klp.Build.Tests.Dwarf;

public sealed class DwarfIndexCacheTests : IDisposable
{
    private readonly Binutils _tools = new();
    private int _builds;

    public void Dispose() => _tools.Dispose();

    private DwarfIndexCache Cache(string directory) => new(directory, (path, diagnostics, _) =>
    {
        Interlocked.Increment(ref _builds);
        Thread.Sleep(50);
        return DwarfIndex.Build(path, diagnostics);
    });

    [Fact]
    public void ACacheHitDoesNotBuildAgainAndGivesTheSameIndex()
    {
        var o = DwarfTestSources.Compile(_tools, "5");
        var directory = Path.Combine(_tools.Directory, "cache");
        var first = Cache(directory).GetOrCreate(o, new DiagnosticBag()).ShouldNotBeNull();
        _builds.ShouldBe(1);
        var cache = Cache(directory);
        var second = cache.GetOrCreate(o, new DiagnosticBag()).ShouldNotBeNull();
        cache.LastWasHit.ShouldBeTrue();
        _builds.ShouldBe(1);
        second.Functions.Select(f => f.ToString()).ShouldBe(first.Functions.Select(f => f.ToString()));
        second.FindFunctions("scale").Single(f => f.HasCode).ConcreteParameters.ShouldBe(first.FindFunctions("scale").Single(f => f.HasCode).ConcreteParameters);
        second.FindInlinedCopies("helper").Select(c => c.ToString()).ShouldBe(first.FindInlinedCopies("helper").Select(c => c.ToString()));
        second.Producers.ShouldBe(first.Producers);
        Directory.GetFiles(directory).Select(Path.GetFileName).ShouldNotContain(n => n!.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void AChangedInputIsIndexedAgain()
    {
        var o = DwarfTestSources.Compile(_tools, "5");
        var directory = Path.Combine(_tools.Directory, "cache");
        Cache(directory).GetOrCreate(o, new DiagnosticBag());
        File.SetLastWriteTimeUtc(o, DateTime.UtcNow.AddMinutes(1));
        var cache = Cache(directory);
        cache.GetOrCreate(o, new DiagnosticBag()).ShouldNotBeNull();
        cache.LastWasHit.ShouldBeFalse();
        _builds.ShouldBe(2);
    }

    [Fact]
    public void ADamagedCacheFileIsMadeAgainWithAWarning()
    {
        var o = DwarfTestSources.Compile(_tools, "4");
        var directory = Path.Combine(_tools.Directory, "cache");
        var cache = Cache(directory);
        cache.GetOrCreate(o, new DiagnosticBag());
        var bytes = File.ReadAllBytes(cache.BinaryPathFor(o));
        foreach (var length in new[] { bytes.Length - 1, bytes.Length / 2, 200 })
        {
            File.WriteAllBytes(cache.BinaryPathFor(o), bytes[..length]);
            var diagnostics = new DiagnosticBag();
            Cache(directory).GetOrCreate(o, diagnostics).ShouldNotBeNull().FindFunctions("show").ShouldHaveSingleItem();
            diagnostics.Items.ShouldHaveSingleItem().Code.ShouldBe(DwarfCodes.DamagedCache);
        }
        // Corrupted ids inside the rows: detected by the checks on load, not by a crash later.
        var damaged = (byte[])bytes.Clone();
        for (var i = bytes.Length - 2000; i < bytes.Length; i += 3) damaged[i] = 0xff;
        File.WriteAllBytes(cache.BinaryPathFor(o), damaged);
        Cache(directory).GetOrCreate(o, new DiagnosticBag()).ShouldNotBeNull().FindFunctions("show").ShouldHaveSingleItem();
    }

    [Fact]
    public void TwoBuildsAtOnceIndexOnce()
    {
        var o = DwarfTestSources.Compile(_tools, "5");
        var directory = Path.Combine(_tools.Directory, "cache");
        var results = new DwarfIndex?[4];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => results[i] = Cache(directory).GetOrCreate(o, new DiagnosticBag()));
        _builds.ShouldBe(1);
        results.ShouldAllBe(r => r != null && r.FindFunctions("show").Count == 1);
    }
}
