using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Kernels;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Dwarf;

public sealed class DwarfDebugModuleTests
{
    [Fact]
    public void ProvideDebugModuleExtractsOneModuleWithItsDwarfFromTheDbgPackage()
    {
        var provider = new DebianKernelProvider(new DebianArchive(), new KernelCache(KernelCache.DefaultRoot));
        var target = provider.ProvideBuildTree(TestKernels.NewestRelease("6.1"));
        var module = provider.ProvideDebugModule(target, "nfsd").ShouldNotBeNull();
        module.ShouldEndWith("/fs/nfsd/nfsd.ko");
        module.ShouldContain("debug-modules");

        var diagnostics = new DiagnosticBag();
        var index = DwarfIndex.Build(module, diagnostics).ShouldNotBeNull();
        diagnostics.Items.ShouldBeEmpty();
        index.FindFunctions("nfsd_vfs_write").ShouldContain(f => f.HasCode && f.Parameters[0].Type == "struct svc_rqst *");
        index.Producers.ShouldAllBe(p => !p.Contains("-flive-patching"));

        var again = System.Diagnostics.Stopwatch.StartNew();
        provider.ProvideDebugModule(target, "nfsd").ShouldBe(module);
        again.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5), "an extracted module is served from the cache");
        provider.ProvideDebugModule(target, "no_such_module_here").ShouldBeNull();
    }
}
