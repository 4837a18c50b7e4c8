using System.Globalization;
using System.Text.RegularExpressions;
using Klp.Build.Diagnostics;
using Klp.Build.Processes;
using Klp.Build.Symbols;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Symbols;

/// <summary>The real Debian 6.1 amd64 kernel (vmlinux from -dbg, every module of linux-image), generated once.</summary>
public sealed class Kernel61Fixture
{
    public Kernel61Fixture()
    {
        Release = TestKernels.NewestRelease("6.1");
        ImageRoot = TestKernels.ImageRoot(Release);
        Vmlinux = TestKernels.DebugVmlinux(Release);
        SystemMap = TestKernels.DebugSystemMap(Release);
        ModulesDirectory = Path.Combine(ImageRoot, "lib", "modules", Release);
        Inputs = SymbolMapInputs.ForDebianImage(Vmlinux, ImageRoot, Release);
        Map = SymbolMapGenerator.Generate(Inputs, Diagnostics) ?? throw new InvalidOperationException(string.Join('\n', Diagnostics.Items));
    }

    public string Release { get; }
    public string ImageRoot { get; }
    public string Vmlinux { get; }
    public string SystemMap { get; }
    public string ModulesDirectory { get; }
    public SymbolMapInputs Inputs { get; }
    public DiagnosticBag Diagnostics { get; } = new();
    public KernelSymbolMap Map { get; }

    /// <summary>System.map lines: address, type, name.</summary>
    public IReadOnlyList<(ulong Address, char Kind, string Name)> SystemMapLines => _systemMapLines ??= File.ReadLines(SystemMap)
        .Select(l => l.Split(' ', 3))
        .Select(p => (ulong.Parse(p[0], NumberStyles.HexNumber), p[1][0], p[2]))
        .ToList();

    private IReadOnlyList<(ulong, char, string)>? _systemMapLines;
}

public sealed class SymbolMapGeneratorTests(Kernel61Fixture kernel) : IClassFixture<Kernel61Fixture>
{
    private SymbolMapObject Vmlinux => kernel.Map.Find(KernelSymbolMap.Vmlinux)!;

    [Fact]
    public void GenerationReportsNoProblems() => kernel.Diagnostics.Items.ShouldBeEmpty();

    [Fact]
    public void OptionsComeFromTheImagesConfig()
    {
        var config = File.ReadAllLines(Path.Combine(kernel.ImageRoot, "boot", $"config-{kernel.Release}"));
        kernel.Inputs.Options.AllSymbols.ShouldBe(config.Contains("CONFIG_KALLSYMS_ALL=y"));
        kernel.Inputs.Options.AbsolutePercpu.ShouldBe(config.Contains("CONFIG_KALLSYMS_ABSOLUTE_PERCPU=y"));
        kernel.Inputs.Options.ModuleUnload.ShouldBe(config.Contains("CONFIG_MODULE_UNLOAD=y"));
    }

    [Fact]
    public void SystemMapStepMatchesTheDebugPackagesSystemMap()
    {
        ElfSymbolScanner.ScanFile(kernel.Vmlinux, out var sections, out var symbols, out _).ShouldBeNull();
        var ours = VmlinuxKallsyms.SystemMap(sections, symbols).Select(s => (s.Address, s.Kind, s.Name)).ToList();
        var real = kernel.SystemMapLines;
        // The real map comes from the same vmlinux; it may only lack nothing and add nothing.
        var firstDifference = Enumerable.Range(0, Math.Min(ours.Count, real.Count)).FirstOrDefault(i => ours[i] != real[i], -1);
        firstDifference.ShouldBe(-1, firstDifference < 0 ? "" : $"ours {ours[firstDifference]} real {real[firstDifference]} at line {firstDifference + 1}");
        ours.Count.ShouldBe(real.Count);
    }

    [Fact]
    public void VmlinuxOrderAgreesWithSystemMapWhereBothListASymbol()
    {
        var ours = Vmlinux.Symbols;
        var kept = ours.Select(s => (s.Address, s.Name)).ToHashSet();
        var real = kernel.SystemMapLines.Where(l => kept.Contains((l.Address, l.Name))).ToList();
        real.Count.ShouldBe(ours.Count);
        // Same addresses in the same order; within one address kallsyms breaks ties its own way.
        ours.Select(s => s.Address).ShouldBe(real.Select(r => r.Address));
        for (var i = 1; i < ours.Count; i++) ours[i].Address.ShouldBeGreaterThanOrEqualTo(ours[i - 1].Address);
        var sameAddressNamesDiffer = ours.Select((s, i) => s.Name != real[i].Name).Count(d => d);
        sameAddressNamesDiffer.ShouldBeLessThan(ours.Count / 100);
    }

    [Fact]
    public void VmlinuxComesFirstThenOneObjectPerModule()
    {
        kernel.Map.Objects[0].Name.ShouldBe(KernelSymbolMap.Vmlinux);
        var modules = kernel.Inputs.ModuleFiles;
        modules.Count.ShouldBeGreaterThan(1000);
        kernel.Map.Objects.Count.ShouldBe(modules.Count + 1);
        kernel.Map.Objects.Skip(1).Select(o => o.Name).ToHashSet()
            .SetEquals(modules.Select(Klp.Build.Kernels.KernelModuleIndex.NameOf)).ShouldBeTrue();
        // modules.dep knows every module by the same name.
        var index = new Klp.Build.Kernels.KernelModuleIndex(kernel.ModulesDirectory);
        index.ModuleNames.ToHashSet().SetEquals(kernel.Map.Objects.Skip(1).Select(o => o.Name)).ShouldBeTrue();
    }

    [Fact]
    public void RepeatedVmlinuxNameCountsInAddressOrderLikeNm()
    {
        var name = "type_show";
        var nm = ProcessRunner.Run("nm", ["-n", kernel.Vmlinux], environment: new Dictionary<string, string?> { ["LC_ALL"] = "C" });
        nm.Succeeded.ShouldBeTrue(nm.StandardError);
        var nmAddresses = nm.StandardOutput.Split('\n')
            .Select(l => l.Split(' ')).Where(p => p.Length == 3 && p[2] == name)
            .Select(p => ulong.Parse(p[0], NumberStyles.HexNumber)).ToList();
        nmAddresses.Count.ShouldBeGreaterThan(5);

        var occurrences = Vmlinux.Occurrences(name);
        occurrences.Select(o => o.Symbol.Address).ShouldBe(nmAddresses);
        occurrences.Select(o => o.Sympos).ShouldBe(Enumerable.Range(1, nmAddresses.Count));
        occurrences.ShouldAllBe(o => o.Symbol.Kind == 't');
    }

    [Fact]
    public void NameUniqueInVmlinuxHasSymposZero()
    {
        // A global function System.map lists exactly once.
        var name = kernel.SystemMapLines.Where(l => l.Kind == 'T').GroupBy(l => l.Name).First(g => g.Count() == 1
            && kernel.SystemMapLines.Count(l => l.Name == g.Key) == 1).Key;
        var occurrence = Vmlinux.Occurrences(name).ShouldHaveSingleItem();
        occurrence.Sympos.ShouldBe(0);
        occurrence.Symbol.Kind.ShouldBe('T');
        kernel.Map.FindEverywhere("saved_command_line").ShouldHaveSingleItem().Sympos.ShouldBe(0);
    }

    [Fact]
    public void ModuleSymbolsFollowSymtabOrderLikeReadelf()
    {
        // A module in which one local name occurs more than once among the symbols the kernel keeps.
        var (module, name) = kernel.Map.Objects.Skip(1)
            .Select(o => (Object: o, Name: o.Symbols.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1 && char.IsLower(g.First().Kind))?.Key))
            .First(x => x.Name is not null);
        var path = kernel.Inputs.ModuleFiles.Single(f => Klp.Build.Kernels.KernelModuleIndex.NameOf(f) == module.Name);

        var readelf = ProcessRunner.Run("readelf", ["-sW", path]);
        readelf.Succeeded.ShouldBeTrue(readelf.StandardError);
        var symtab = readelf.StandardOutput.Split('\n')
            .Select(l => Regex.Match(l, @"^\s*(\d+):\s+([0-9a-f]+)\s+\d+\s+\w+\s+\w+\s+\w+\s+(\w+)\s+(\S+)$"))
            .Where(m => m.Success)
            .Select(m => (Value: ulong.Parse(m.Groups[2].Value, NumberStyles.HexNumber), Ndx: m.Groups[3].Value, Name: m.Groups[4].Value))
            .ToList();
        var sectionNames = Regex.Matches(Klp.Build.Tests.Elf.Binutils.Run("readelf", "binutils", "-SW", path), @"^\s*\[\s*(\d+)\]\s+(\S+)", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

        // readelf's order of that name (defined in a section the module keeps) is our order.
        var expected = symtab.Where(s => s.Name == name && sectionNames.TryGetValue(s.Ndx, out var section) && !section.StartsWith(".init"))
            .Select(s => (s.Value, sectionNames[s.Ndx])).ToList();
        expected.Count.ShouldBeGreaterThan(1);
        module.Occurrences(name!).Select(o => (o.Symbol.Address, o.Symbol.Section!)).ShouldBe(expected);

        // And the whole object is a subsequence of .symtab.
        var cursor = 0;
        foreach (var symbol in module.Symbols)
        {
            while (cursor < symtab.Count && (symtab[cursor].Name != symbol.Name || symtab[cursor].Value != symbol.Address)) cursor++;
            cursor.ShouldBeLessThan(symtab.Count, $"{symbol.Name} out of .symtab order");
            cursor++;
        }
    }

    [Fact]
    public void NamesAModuleHasMoreOfWhileLoadingAreFlaggedAndNoOthers()
    {
        // Flagged modules (if this kernel has any) and some others: .symtab's defined entries per name agree.
        var checkedModules = kernel.Map.Objects.Skip(1).Where(o => o.UnstableNames.Count > 0).Take(3)
            .Concat(kernel.Map.Objects.Skip(1).Where((_, i) => i % 500 == 0)).ToList();
        kernel.Map.Objects[0].UnstableNames.ShouldBeEmpty();
        foreach (var module in checkedModules)
        {
            var path = kernel.Inputs.ModuleFiles.Single(f => Klp.Build.Kernels.KernelModuleIndex.NameOf(f) == module.Name);
            var readelf = Klp.Build.Tests.Elf.Binutils.Run("readelf", "binutils", "-sW", path).Split('\n')
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(p => p.Length == 8 && p[0].EndsWith(':') && p[6] != "UND").ToList();
            foreach (var name in module.UnstableNames)
                readelf.Count(p => p[7] == name).ShouldBeGreaterThan(module.Occurrences(name).Count, $"{module.Name}: {name}");
            // Every other name has as many defined entries in .symtab as the map counts.
            foreach (var name in module.Symbols.Select(s => s.Name).Distinct().Where(n => !module.UnstableNames.Contains(n)))
                readelf.Count(p => p[7] == name).ShouldBe(module.Occurrences(name).Count, $"{module.Name}: {name}");
        }
    }

    [Fact]
    public void WrittenMapRoundTripsThroughRead()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "symbols.klp");
        kernel.Map.WriteFile(path);
        var diagnostics = new DiagnosticBag();
        var read = KernelSymbolMap.Read(path, diagnostics).ShouldNotBeNull();
        diagnostics.Items.ShouldBeEmpty();
        read.Objects.Select(o => o.Name).ShouldBe(kernel.Map.Objects.Select(o => o.Name));
        for (var i = 0; i < read.Objects.Count; i++)
            read.Objects[i].Symbols.Select(s => s.Name).ShouldBe(kernel.Map.Objects[i].Symbols.Select(s => s.Name));
    }

    [Fact]
    public void BinaryFormRoundTripsWithAddressesKindsAndSections()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "symbols.bin");
        AtomicFile.Write(path, stream => SymbolMapBinary.Write(kernel.Map, "key-1", stream));
        var read = SymbolMapBinary.Read(path, out var key).ShouldNotBeNull();
        key.ShouldBe("key-1");
        read.Objects.Count.ShouldBe(kernel.Map.Objects.Count);
        for (var i = 0; i < read.Objects.Count; i++)
        {
            read.Objects[i].Symbols.ShouldBe(kernel.Map.Objects[i].Symbols);
            read.Objects[i].UnstableNames.Order().ShouldBe(kernel.Map.Objects[i].UnstableNames.Order());
        }
    }
}

internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("klp-symbols-").FullName;
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
