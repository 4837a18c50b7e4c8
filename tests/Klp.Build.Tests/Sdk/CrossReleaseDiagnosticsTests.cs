using System.Text.RegularExpressions;
using Klp.Build.Analysis;
using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Kernels;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>
/// A KernelReleases build reports each safety finding once: as it is when it holds for every release, with the
/// releases it holds for when it does not. The functions are found in the real -dbg packages of a Debian 6.1 and
/// a 6.12 kernel (System.map and DWARF), never named here.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class CrossReleaseDiagnosticsTests
{
    private static readonly string Release61 = TestKernels.NewestRelease("6.1");
    private static readonly string Release612 = TestKernels.NewestRelease("6.12");

    [Fact]
    public void A_finding_of_every_release_is_reported_once_and_one_of_some_releases_names_them()
    {
        var kernels = new[] { KernelFacts.Load(Release61), KernelFacts.Load(Release612) };
        // A GCC clone (.part/.constprop/.isra) in one release only: KLP4103 holds there only.
        var cloned = kernels.SelectMany((k, i) => k.FunctionsWithClones().Where(name => kernels[1 - i].IsPlainFunction(name))
                .Select(name => (Name: name, Release: k.Release, Clones: k.Family(name))))
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .First(c => SameSimplePrototype(kernels, c.Name) is not null && kernels.All(k => k.Traceable(c.Name)));
        // Inlined into the same callers in both releases, no clones: the same KLP4102 in both.
        var inlined = kernels[0].Names.Where(name => kernels.All(k => k.IsPlainFunction(name)) && SameSimplePrototype(kernels, name) is not null)
            .OrderBy(name => name, StringComparer.Ordinal)
            .Select(name => (Name: name, Inliners: kernels.Select(k => k.InlinedInto(name)).ToList()))
            .First(i => i.Inliners[0].Count > 0 && i.Inliners[0].SequenceEqual(i.Inliners[1]) && !i.Inliners[0].Contains(i.Name) && kernels.All(k => k.Traceable(i.Name)));
        // In 6.12 only: KLP4101 (no symbol) is an error of the 6.1 inner build.
        var missing = kernels[1].Names.Where(name => kernels[1].IsPlainFunction(name) && !kernels[0].Knows(name) && kernels[1].Prototype(name) is { } p && IsSimple(p))
            .OrderBy(n => n, StringComparer.Ordinal).First(kernels[1].Traceable);

        using var project = new TestProject("cross-release", $"""
              <PropertyGroup><KernelReleases>{Release61};{Release612}</KernelReleases></PropertyGroup>
              <ItemGroup>
                <PatchedFunction Include="{cloned.Name}" Replacement="lp_cloned" />
                <PatchedFunction Include="{inlined.Name}" Replacement="lp_inlined" />
                <PatchedFunction Include="{missing}" Replacement="lp_missing" Condition="'$(WithMissing)' == 'true'" />
              </ItemGroup>
            """, ("livepatch.c", "#include <linux/types.h>\n" +
                  Replacement("lp_cloned", SameSimplePrototype(kernels, cloned.Name)!) +
                  Replacement("lp_inlined", SameSimplePrototype(kernels, inlined.Name)!) +
                  Replacement("lp_missing", kernels[1].Prototype(missing)!)));

        var build = project.Build();

        build.Succeeded.ShouldBeTrue(build.ToString());
        var clone = build.Warnings.Where(w => w.Code == "KLP4103" && w.Message.Contains(cloned.Clones[0])).ShouldHaveSingleItem(build.ToString());
        clone.Message.ShouldEndWith($"(only in {cloned.Release})");
        clone.Message.ShouldNotStartWith("[");
        clone.Line.ShouldBe(ProjectLine(project, cloned.Name), "on the PatchedFunction line, as in a single-release build");
        var both = build.Warnings.Where(w => w.Code == "KLP4102" && w.Message.Contains($"'{inlined.Name}'")).ShouldHaveSingleItem(build.ToString());
        both.Message.ShouldNotContain("only in");
        both.Message.ShouldNotStartWith("[");
        both.Message.ShouldContain(string.Join(", ", inlined.Inliners[0].Take(3)));
        // Once in the build's log (the console logger repeats every warning in its summary after "Build succeeded.").
        var log = build.Output[..build.Output.IndexOf("Build succeeded.", StringComparison.Ordinal)];
        Regex.Matches(log, $"warning KLP4102: '{Regex.Escape(inlined.Name)}'").Count.ShouldBe(1, build.Output);
        // Each release's report still holds its own findings.
        foreach (var kernel in kernels)
            File.ReadAllText(Path.Combine(project.Directory, "obj", "Debug", kernel.Release, "klp-safety.json"))
                .Contains(cloned.Clones[0]).ShouldBe(kernel.Release == cloned.Release);

        var failed = project.Build("-p:WithMissing=true");

        failed.Succeeded.ShouldBeFalse(failed.ToString());
        var error = failed.Errors.Where(e => e.Code == "KLP4101").ShouldHaveSingleItem(failed.ToString());
        error.Message.ShouldStartWith($"[{Release61}] '{missing}'");
        // The other findings are still reported once, merged, though a release failed.
        failed.Warnings.Where(w => w.Code == "KLP4103" && w.Message.Contains(cloned.Clones[0])).ShouldHaveSingleItem(failed.ToString())
            .Message.ShouldEndWith($"(only in {cloned.Release})");
    }

    private static int ProjectLine(TestProject project, string function) =>
        File.ReadAllLines(project.ProjectPath).Select((l, i) => (l, i)).First(x => x.l.Contains($"\"{function}\"")).i + 1;

    private static readonly Regex SimpleType = new(@"^(void|int|unsigned int|long int|long unsigned int|bool|_Bool|size_t|(const )?(char|void) \*|(const )?struct \w+ \*)$");

    private static bool IsSimple(DwarfFunction f) => SimpleType.IsMatch(f.ReturnType) && f.Parameters.All(p => SimpleType.IsMatch(p.Type) && !p.IsVariadic);

    private static DwarfFunction? SameSimplePrototype(KernelFacts[] kernels, string name)
    {
        var prototypes = kernels.Select(k => k.Prototype(name)).ToList();
        return prototypes.All(p => p is not null && IsSimple(p) && Signature(p) == Signature(prototypes[0]!)) ? prototypes[0] : null;
    }

    private static string Signature(DwarfFunction f) => $"{f.ReturnType} ({string.Join(", ", f.Parameters.Select(p => p.Type))})";

    /// <summary>A C definition with the original's prototype; struct types are declared, not defined.</summary>
    private static string Replacement(string name, DwarfFunction original)
    {
        var structs = original.Parameters.Select(p => p.Type).Append(original.ReturnType)
            .Select(t => Regex.Match(t, @"struct (\w+)")).Where(m => m.Success).Select(m => $"struct {m.Groups[1].Value};\n").Distinct();
        var parameters = original.Parameters.Count == 0 ? "void" : string.Join(", ", original.Parameters.Select((p, i) => $"{p.Type} a{i}"));
        var body = original.ReturnType == "void" ? "" : "return 0;";
        return $"{string.Concat(structs)}{original.ReturnType} {name}({parameters}) {{ {body} }}\n";
    }

    /// <summary>One release's functions as its -dbg package has them: System.map and the DWARF index (the product's cache).</summary>
    private sealed class KernelFacts
    {
        private readonly Dictionary<string, int> _counts;
        private readonly Dictionary<string, List<string>> _families;
        private readonly Dictionary<string, string> _addresses;
        private readonly DwarfIndex _dwarf;
        private readonly string _vmlinux;

        private KernelFacts(string release, string vmlinux, List<string[]> symbols, DwarfIndex dwarf)
        {
            Release = release;
            _vmlinux = vmlinux;
            var names = symbols.Select(s => s[2]).ToList();
            _counts = names.GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
            _families = names.Where(n => n.Contains('.')).GroupBy(n => n[..n.IndexOf('.')]).ToDictionary(g => g.Key, g => g.ToList());
            _addresses = symbols.GroupBy(s => s[2]).ToDictionary(g => g.Key, g => g.First()[0]);
            _dwarf = dwarf;
        }

        public string Release { get; }
        public IEnumerable<string> Names => _counts.Keys.Where(n => Regex.IsMatch(n, "^[a-z][a-z0-9_]+$"));

        public static KernelFacts Load(string release)
        {
            var cache = new KernelCache(KernelCache.DefaultRoot);
            var provider = new DebianKernelProvider(new DebianArchive(), cache);
            var target = provider.ProvideBuildTree(release);
            var vmlinux = provider.ProvideDebugVmlinux(target);
            var symbols = File.ReadLines(Path.Combine(Path.GetDirectoryName(vmlinux)!, $"System.map-{release}"))
                .Select(l => l.Split(' ')).Where(p => p.Length == 3 && p[1] is "t" or "T").ToList();
            var diagnostics = new DiagnosticBag();
            var dwarf = DwarfIndexCache.ForKernel(cache, release, target.PackageVersion!).GetOrCreate(vmlinux, diagnostics)
                        ?? throw new InvalidOperationException(string.Join('\n', diagnostics.Items));
            return new KernelFacts(release, vmlinux, symbols, dwarf);
        }

        /// <summary>objdump: the function starts with a call to __fentry__ (maybe after endbr64), so ftrace can redirect it.</summary>
        public bool Traceable(string name)
        {
            var start = Convert.ToUInt64(_addresses[name], 16);
            var run = Klp.Build.Processes.ProcessRunner.Run("objdump", ["-d", "--no-show-raw-insn", $"--start-address=0x{start:x}", $"--stop-address=0x{start + 9:x}", _vmlinux]);
            return run.StandardOutput.Split('\n').Where(l => Regex.IsMatch(l, @"^\s*[0-9a-f]+:\t")).Take(2).Any(l => l.Contains("<__fentry__>"));
        }

        public bool Knows(string name) => _counts.ContainsKey(name) || _families.ContainsKey(name) || _dwarf.FindFunctions(name).Count > 0;

        /// <summary>Exactly one symbol of the name and no clones.</summary>
        public bool IsPlainFunction(string name) => _counts.GetValueOrDefault(name) == 1 && !_families.ContainsKey(name);

        public IReadOnlyList<string> Family(string name) => _families.GetValueOrDefault(name) ?? [];

        /// <summary>Functions with exactly one symbol and clones that are .part/.constprop/.isra only.</summary>
        public IEnumerable<string> FunctionsWithClones() =>
            Names.Where(n => _counts[n] == 1 && _families.TryGetValue(n, out var f) && f.All(c => Regex.IsMatch(c, @"\.(constprop|isra|part)\.\d+$")));

        public DwarfFunction? Prototype(string name) => _dwarf.FindFunctions(name).FirstOrDefault(f => f.HasCode && !f.IsDeclaration);

        public IReadOnlyList<string> InlinedInto(string name) => new DwarfFacts(_ => _dwarf, null).InlinedInto(KernelSymbolMapName, name) ?? [];

        private const string KernelSymbolMapName = "vmlinux";
    }
}
