using Klp.Build.Diagnostics;
using Klp.Build.IpaClones;
using Klp.Build.Kernels;
using Klp.Build.Processes;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.IpaClones;

public sealed class IpaCloneTests
{
    [Fact]
    public void The_dump_gcc_writes_is_parsed_and_followed_transitively()
    {
        var directory = Directory.CreateTempSubdirectory("klp-ipa-").FullName;
        File.WriteAllText(Path.Combine(directory, "t.c"), """
            static int helper(int x) { return x * 3 + 1; }
            static __attribute__((noinline)) int cp(int a, int b) { return a * b + helper(a); }
            int api(int v) { return cp(v, 7) + cp(v, 7); }
            static __attribute__((noinline)) int sra(int *p, int n) { return *p + n; }
            int api2(int v) { int x = v; return sra(&x, 3); }
            """);
        ProcessRunner.Run("gcc-12", ["-O2", "-c", "-fdump-ipa-clones", "t.c"], directory).Succeeded.ShouldBeTrue();
        var bag = new DiagnosticBag();
        var dump = IpaCloneDump.Load(Directory.GetFiles(directory, "*.ipa-clones").Single(), bag);
        bag.Items.ShouldBeEmpty();

        dump.Removals.ShouldContain(r => r.Name == "helper");
        var required = PatchClosure.Compute(dump, ["helper", "sra"]).ToDictionary(r => r.Name);

        required.Keys.ShouldBe(["helper", "cp", "cp.constprop.0", "sra", "sra.constprop.0", "sra.constprop.0.isra.0"], ignoreOrder: true);
        required["helper"].OutOfLineBodyRemoved.ShouldBeTrue();
        required["cp.constprop.0"].Reason.ShouldBe("helper is inlined into cp, then cp is cloned as cp.constprop.0 (constprop)");
        required["sra.constprop.0.isra.0"].Path.Count.ShouldBe(2);
        Directory.Delete(directory, true);
    }

    [Fact]
    public void Compiling_the_real_meminfo_c_shows_show_val_kb_inlined_into_meminfo_proc_show()
    {
        var release = TestKernels.NewestRelease("6.1");
        var cache = new KernelCache(KernelCache.DefaultRoot);
        var archive = new DebianArchive();
        var target = new DebianKernelProvider(archive, cache).ProvideBuildTree(release);
        var bag = new DiagnosticBag();
        var toolchain = KernelPrerequisites.Check(target, bag);
        var source = KernelSourceTree.FromDebian(target, archive, cache, CancellationToken.None);
        var work = Directory.CreateTempSubdirectory("klp-ipa-kernel-").FullName;

        var dump = IpaCloneCompiler.Compile(target, toolchain, source, "fs/proc/meminfo.c", work, bag);

        dump.ShouldNotBeNull(string.Join('\n', bag.Items));
        var required = PatchClosure.Compute(dump, ["show_val_kb"]);
        required.ShouldContain(r => r.Name == "meminfo_proc_show" && r.Reason.Contains("show_val_kb is inlined into meminfo_proc_show"));
        required.Single(r => r.Name == "show_val_kb").OutOfLineBodyRemoved.ShouldBeTrue();
        Directory.Delete(work, true);
    }
}
