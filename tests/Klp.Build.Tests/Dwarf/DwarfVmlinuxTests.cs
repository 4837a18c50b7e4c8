using System.Diagnostics;
using System.Globalization;
using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Dwarf;

/// <summary>The debug vmlinux of the newest Debian 6.1 release, indexed once (cold) into a temporary cache.</summary>
public sealed class DebugVmlinuxIndexFixture : IDisposable
{
    public string Release { get; } = TestKernels.NewestRelease("6.1");
    public string Vmlinux { get; }
    public string CacheDirectory { get; } = Directory.CreateTempSubdirectory("klp-dwarf-").FullName;
    public DwarfIndex Index { get; }
    public DiagnosticBag Diagnostics { get; } = new();
    public TimeSpan ColdTime { get; }

    public DebugVmlinuxIndexFixture()
    {
        Vmlinux = TestKernels.DebugVmlinux(Release);
        var watch = Stopwatch.StartNew();
        Index = new DwarfIndexCache(CacheDirectory).GetOrCreate(Vmlinux, Diagnostics).ShouldNotBeNull();
        ColdTime = watch.Elapsed;
    }

    public void Dispose() => Directory.Delete(CacheDirectory, recursive: true);
}

public sealed class DwarfVmlinuxTests(DebugVmlinuxIndexFixture kernel) : IClassFixture<DebugVmlinuxIndexFixture>
{
    [Fact]
    public void TheWholeKernelIsIndexedWithoutProblems()
    {
        kernel.Diagnostics.Items.ShouldBeEmpty();
        kernel.Index.CompileUnitCount.ShouldBeGreaterThan(2000);
        // readelf --debug-dump=info counts 567,310 subprogram + inlined_subroutine DIEs in 6.1.0-56's vmlinux.
        kernel.Index.FunctionCount.ShouldBeGreaterThan(200_000);
        kernel.Index.InlinedCopyCount.ShouldBeGreaterThan(200_000);
    }

    [Fact]
    public void ShowValKbIsOnlyInlinedIntoMeminfoProcShow()
    {
        var functions = kernel.Index.FindFunctions("show_val_kb");
        var abstractOne = functions.ShouldHaveSingleItem();
        abstractOne.HasCode.ShouldBeFalse("show_val_kb has no out-of-line copy");
        abstractOne.Inline.ShouldNotBe(DwarfInline.None);
        abstractOne.DeclFile.ShouldBe("fs/proc/meminfo.c");
        abstractOne.IsStatic.ShouldBeTrue();
        abstractOne.Prototype.ShouldBe("void show_val_kb(struct seq_file *m, const char *s, long unsigned int num)");

        var copies = kernel.Index.FindInlinedCopies("show_val_kb");
        copies.Count.ShouldBeGreaterThan(10);
        copies.ShouldAllBe(c => c.ContainingFunction == "meminfo_proc_show" && c.CallFile == "fs/proc/meminfo.c");
        var meminfo = kernel.Index.FindFunctions("meminfo_proc_show").Single(f => f.HasCode);
        copies.ShouldAllBe(c => c.ContainingFunctionLowAddress == meminfo.LowAddress && c.ContainingFunctionId == meminfo.Id);
        copies.ShouldAllBe(c => meminfo.Ranges.Any(r => r.Contains(c.EntryPc)));
    }

    [Fact]
    public void CmdlineProcShowHasOneConcreteSubprogram()
    {
        var concrete = kernel.Index.FindFunctions("cmdline_proc_show").Where(f => f.HasCode).ToList().ShouldHaveSingleItem();
        concrete.ReturnType.ShouldBe("int");
        concrete.ParameterTypes.ShouldBe("struct seq_file *, void *");
        concrete.Prototype.ShouldBe("int cmdline_proc_show(struct seq_file *m, void *v)");
        concrete.ConcreteParameters.ShouldNotBeNull().Select(p => p.Type).ShouldBe(["struct seq_file *", "void *"]);
        concrete.DeclFile.ShouldBe("fs/proc/cmdline.c");
        concrete.IsStatic.ShouldBeTrue();
        concrete.CompileUnit.Name.ShouldBe("fs/proc/cmdline.c");

        // Its System.map address falls in its range, and the address lookup finds it.
        var line = File.ReadLines(TestKernels.DebugSystemMap(kernel.Release)).Single(l => l.EndsWith(" cmdline_proc_show", StringComparison.Ordinal));
        var address = ulong.Parse(line[..line.IndexOf(' ')], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        concrete.LowAddress.ShouldBe(address);
        kernel.Index.FindFunctionsContaining(address + 4).ShouldHaveSingleItem().Id.ShouldBe(concrete.Id);
    }

    [Fact]
    public void TheKernelWasNotBuiltWithLivePatchingFlags()
    {
        var producers = kernel.Index.Producers;
        producers.ShouldContain(p => p.StartsWith("GNU C11 12.", StringComparison.Ordinal) && p.Contains(" -O2"));
        producers.ShouldAllBe(p => !p.Contains("-flive-patching"));
        producers.ShouldAllBe(p => !p.Contains("-fdump-ipa-clones"));
    }

    [Fact]
    public void IsraAndConstpropClonesCarryTheirConcreteParameters()
    {
        // Every .isra symbol of System.map is the address of a concrete instance with an abstract origin.
        var isra = File.ReadLines(TestKernels.DebugSystemMap(kernel.Release))
            .Select(l => l.Split(' ')).Where(t => t.Length == 3 && t[1] is "t" or "T" && t[2].Contains(".isra.") && !t[2].Contains(".cold"))
            .Take(50).ToList();
        isra.Count.ShouldBe(50);
        var withOrigin = 0;
        foreach (var t in isra)
        {
            var address = ulong.Parse(t[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var name = t[2][..t[2].IndexOf('.')];
            var function = kernel.Index.FindFunctionsContaining(address).FirstOrDefault(f => f.Name == name);
            if (function is null) continue;
            function.LowAddress.ShouldBe(address);
            if (function.IsConcreteInstance)
            {
                withOrigin++;
                function.ConcreteParameters.ShouldNotBeNull();
                function.Parameters.Count.ShouldBeGreaterThanOrEqualTo(function.ConcreteParameters!.Count(p => p.HasLocation));
            }
        }
        withOrigin.ShouldBeGreaterThan(40);
    }

    [Fact]
    public void ASecondBuildLoadsTheCacheInsteadOfIndexingAgain()
    {
        var built = 0;
        var watch = Stopwatch.StartNew();
        var cache = new DwarfIndexCache(kernel.CacheDirectory, (path, d, token) => { built++; return DwarfIndex.Build(path, d); });
        var index = cache.GetOrCreate(kernel.Vmlinux, new DiagnosticBag()).ShouldNotBeNull();
        var warm = watch.Elapsed;
        cache.LastWasHit.ShouldBeTrue();
        built.ShouldBe(0);
        index.FunctionCount.ShouldBe(kernel.Index.FunctionCount);
        index.FindFunctions("cmdline_proc_show").Single(f => f.HasCode).Prototype.ShouldBe("int cmdline_proc_show(struct seq_file *m, void *v)");
        index.FindInlinedCopies("show_val_kb").Count.ShouldBe(kernel.Index.FindInlinedCopies("show_val_kb").Count);
        warm.ShouldBeLessThan(kernel.ColdTime, $"warm {warm.TotalMilliseconds:F0} ms, cold {kernel.ColdTime.TotalMilliseconds:F0} ms");
    }
}
