using System.Diagnostics;
using Klp.Build.Diagnostics;
using Klp.Build.Kernels;
using Klp.Build.Symbols;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Symbols;

public sealed class DebugVmlinuxTests
{
    [Fact]
    public void ProvideDebugVmlinuxExtractsVmlinuxAndSystemMapOnceIntoTheCache()
    {
        var provider = new DebianKernelProvider(new DebianArchive(), new KernelCache(KernelCache.DefaultRoot));
        var target = provider.ProvideBuildTree(TestKernels.NewestRelease("6.1"));

        var vmlinux = provider.ProvideDebugVmlinux(target);
        vmlinux.ShouldStartWith(KernelCache.DefaultRoot);
        Path.GetFileName(vmlinux).ShouldBe($"vmlinux-{target.Release}");
        var systemMap = Path.Combine(Path.GetDirectoryName(vmlinux)!, $"System.map-{target.Release}");
        Directory.GetFiles(Path.GetDirectoryName(vmlinux)!).Order().ShouldBe(new[] { systemMap, vmlinux }.Order(), "only vmlinux and System.map are extracted");
        // kallsyms keeps nearly all of System.map (it drops absolute symbols and a few of its own).
        var kept = SymbolMapGenerator.ReadVmlinux(vmlinux, KallsymsOptions.Default, out var error).ShouldNotBeNull(error).Symbols.Count;
        var lines = File.ReadLines(systemMap).Count();
        kept.ShouldBeLessThanOrEqualTo(lines);
        kept.ShouldBeGreaterThan(lines * 99 / 100);

        var again = Stopwatch.StartNew();
        provider.ProvideDebugVmlinux(target).ShouldBe(vmlinux);
        again.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1), "a cached vmlinux needs no apt");
    }

    [Fact]
    public void ExtractMembersTakesOnlyTheNamedFilesOfAPackage()
    {
        using var temp = new TempDirectory();
        var package = Path.Combine(temp.Path, "pkg");
        Directory.CreateDirectory(Path.Combine(package, "DEBIAN"));
        Directory.CreateDirectory(Path.Combine(package, "usr", "lib", "debug", "boot"));
        File.WriteAllText(Path.Combine(package, "DEBIAN", "control"), "Package: klp-test\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n");
        File.WriteAllText(Path.Combine(package, "usr", "lib", "debug", "boot", "vmlinux-x"), "elf");
        File.WriteAllText(Path.Combine(package, "usr", "lib", "debug", "boot", "other"), "no");
        var deb = Path.Combine(temp.Path, "klp-test.deb");
        Klp.Build.Processes.ProcessRunner.Run("dpkg-deb", ["--build", package, deb]).Succeeded.ShouldBeTrue();
        var root = Path.Combine(temp.Path, "out");
        Directory.CreateDirectory(root);

        DebianArchive.ExtractMembers(deb, root, ["./usr/lib/debug/boot/vmlinux-x"]);
        File.ReadAllText(Path.Combine(root, "usr", "lib", "debug", "boot", "vmlinux-x")).ShouldBe("elf");
        File.Exists(Path.Combine(root, "usr", "lib", "debug", "boot", "other")).ShouldBeFalse();
        Should.Throw<DiagnosticException>(() => DebianArchive.ExtractMembers(deb, root, ["./usr/lib/debug/boot/missing"]));
    }
}
