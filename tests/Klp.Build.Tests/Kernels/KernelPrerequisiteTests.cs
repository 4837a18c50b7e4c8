using Klp.Build.Diagnostics;
using Klp.Build.Kernels;
using Klp.Build.Processes;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Kernels;

public sealed class KernelPrerequisiteTests
{
    private static KernelTarget Debian(string release) =>
        new DebianKernelProvider(new DebianArchive(), new KernelCache(KernelCache.DefaultRoot)).ProvideBuildTree(release);

    /// <summary>Looks tools up on a PATH made of only the named host tools, as on a host that lacks the others.</summary>
    private static Func<string, string?> HostWith(params string[] tools)
    {
        var bin = Directory.CreateTempSubdirectory("klp-path-").FullName;
        foreach (var tool in tools)
            File.CreateSymbolicLink(Path.Combine(bin, tool), ProcessRunner.FindOnPath(tool) ?? throw new InvalidOperationException(tool));
        return tool => tool.Contains('/') ? tool : File.Exists(Path.Combine(bin, tool)) ? Path.Combine(bin, tool) : null;
    }

    private static string CompilerOf(KernelTarget target) =>
        target.LoadConfig()["CONFIG_CC_VERSION_TEXT"]!.Split(' ')[0];

    [Fact]
    public void A_debian_amd64_kernel_on_this_host_has_everything()
    {
        var bag = new DiagnosticBag();
        var target = Debian(TestKernels.NewestRelease("6.1"));
        var toolchain = KernelPrerequisites.Check(target, bag);
        bag.Items.ShouldBeEmpty();
        toolchain.Compiler.ShouldBe(CompilerOf(target));
    }

    [Fact]
    public void The_kernels_own_compiler_missing_is_KLP1012()
    {
        var target = Debian(TestKernels.NewestRelease("6.1"));
        var bag = new DiagnosticBag();
        KernelPrerequisites.Check(target, bag, HostWith("make"));
        var error = bag.Items.Single();
        error.Code.ShouldBe("KLP1012");
        error.Message.ShouldContain(CompilerOf(target));
        error.Message.ShouldContain("apt-get install gcc-12");
    }

    [Fact]
    public void Make_missing_is_KLP1013()
    {
        var target = Debian(TestKernels.NewestRelease("6.1"));
        var bag = new DiagnosticBag();
        KernelPrerequisites.Check(target, bag, HostWith(CompilerOf(target)));
        bag.Items.Single().Code.ShouldBe("KLP1013");
    }

    [Fact]
    public void A_btf_kernel_without_pahole_is_KLP1014()
    {
        var target = Debian(TestKernels.NewestRelease("6.12"));
        target.LoadConfig().IsEnabled("CONFIG_DEBUG_INFO_BTF_MODULES").ShouldBeTrue();
        var bag = new DiagnosticBag();
        KernelPrerequisites.Check(target, bag, HostWith("make", CompilerOf(target)));
        bag.Items.Single().Code.ShouldBe("KLP1014");
        KernelPrerequisites.Check(target, bag = new DiagnosticBag(), HostWith("make", CompilerOf(target), "pahole"));
        bag.Items.ShouldBeEmpty();
    }

    [Fact]
    public void Debians_ppc64el_61_kernel_has_no_livepatch_and_needs_a_cross_compiler()
    {
        var release = TestKernels.NewestRelease("6.1", "powerpc64le");
        var target = Debian(release);
        target.Architecture.ShouldBe(KernelArchitecture.Ppc64el);
        var bag = new DiagnosticBag();

        var toolchain = KernelPrerequisites.Check(target, bag, HostWith("make", "gcc-12"));

        bag.Items.Select(d => d.Code).ShouldBe(["KLP1010", "KLP1015"], ignoreOrder: true);
        bag.Items.Single(d => d.Code == "KLP1015").Message.ShouldContain("gcc-12-powerpc64le-linux-gnu");
        toolchain.CrossCompile.ShouldBe("powerpc64le-linux-gnu-");
    }

    [Fact]
    public void A_kernel_without_modules_is_KLP1011()
    {
        var real = Debian(TestKernels.NewestRelease("6.1"));
        var tree = Directory.CreateTempSubdirectory("klp-nomodules-").FullName;
        File.WriteAllLines(Path.Combine(tree, ".config"), File.ReadAllLines(real.ConfigPath)
            .Select(l => l.StartsWith("CONFIG_MODULES=", StringComparison.Ordinal) ? "# CONFIG_MODULES is not set" : l));
        var bag = new DiagnosticBag();
        KernelPrerequisites.Check(real with { BuildDirectory = tree }, bag);
        bag.Items.Single().Code.ShouldBe("KLP1011");
        Directory.Delete(tree, true);
    }
}
