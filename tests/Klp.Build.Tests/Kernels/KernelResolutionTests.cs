using Klp.Build.Diagnostics;
using Klp.Build.Kernels;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Kernels;

public sealed class KernelResolutionTests
{
    private static DebianKernelProvider Provider(string? cacheRoot = null) =>
        new(new DebianArchive(), new KernelCache(cacheRoot ?? KernelCache.DefaultRoot));

    [Fact]
    public void A_debian_release_is_fetched_into_the_cache_and_its_headers_work_from_there()
    {
        var release = TestKernels.NewestRelease("6.1");
        var target = new KernelTargetResolver(Provider()).Resolve(null, release);

        target.Source.ShouldBe(KernelSourceKind.Debian);
        target.Release.ShouldBe(release);
        target.BuildDirectory.ShouldStartWith(KernelCache.DefaultRoot);
        File.Exists(target.ConfigPath).ShouldBeTrue();
        var makefile = File.ReadAllText(Path.Combine(target.BuildDirectory, "Makefile"));
        makefile.ShouldNotContain("include /usr/src/");
        var included = makefile.Trim()["include ".Length..];
        File.Exists(included).ShouldBeTrue($"the redirected include {included} must exist");
        Directory.Exists(Path.Combine(target.BuildDirectory, "scripts")).ShouldBeTrue("the relative scripts link must resolve inside the cache");
    }

    [Fact]
    public void A_wildcard_release_resolves_to_the_newest_abi_the_archive_serves()
    {
        var newest = TestKernels.NewestRelease("6.1");
        Provider().ResolveRelease("6.1.0-*-amd64").ShouldBe(newest);
        Provider().ResolveRelease("6.12.*+deb12-amd64").ShouldBe(TestKernels.NewestRelease("6.12"));
    }

    [Fact]
    public void KernelDir_wins_over_KernelRelease()
    {
        var debian = new KernelTargetResolver(Provider()).Resolve(null, TestKernels.NewestRelease("6.1"));
        var target = new KernelTargetResolver(Provider()).Resolve(debian.BuildDirectory, "9.9.9-does-not-exist-amd64");

        target.Source.ShouldBe(KernelSourceKind.KernelDir);
        target.Release.ShouldBe(debian.Release);
        target.Architecture.ShouldBe(KernelArchitecture.Amd64);
    }

    [Fact]
    public void Without_KernelDir_or_KernelRelease_the_running_kernels_build_tree_is_used()
    {
        var debian = new KernelTargetResolver(Provider()).Resolve(null, TestKernels.NewestRelease("6.1"));
        var modules = Directory.CreateTempSubdirectory("klp-modules-").FullName;
        Directory.CreateDirectory(Path.Combine(modules, debian.Release));
        Directory.CreateSymbolicLink(Path.Combine(modules, debian.Release, "build"), debian.BuildDirectory);

        var target = new KernelTargetResolver(Provider(), modules, debian.Release).Resolve(null, null);

        target.Source.ShouldBe(KernelSourceKind.RunningKernel);
        target.Release.ShouldBe(debian.Release);
        Directory.Delete(modules, true);
    }

    [Fact]
    public void A_running_kernel_without_headers_is_KLP1005()
    {
        var modules = Directory.CreateTempSubdirectory("klp-modules-").FullName;
        var error = Should.Throw<DiagnosticException>(() => new KernelTargetResolver(Provider(), modules, "6.6.6-none").Resolve(null, null));
        error.Diagnostic.Code.ShouldBe("KLP1005");
        error.Diagnostic.Message.ShouldContain("KernelRelease");
        Directory.Delete(modules, true);
    }

    [Fact]
    public void A_directory_that_is_no_kernel_tree_is_KLP1004()
    {
        var empty = Directory.CreateTempSubdirectory("klp-notakernel-").FullName;
        Should.Throw<DiagnosticException>(() => new KernelTargetResolver(Provider()).Resolve(empty, null)).Diagnostic.Code.ShouldBe("KLP1004");
        Directory.Delete(empty, true);
    }

    [Fact]
    public void An_unknown_release_is_KLP1001_and_names_releases_that_exist()
    {
        var newest = TestKernels.NewestRelease("6.1");
        var error = Should.Throw<DiagnosticException>(() => Provider().ProvideBuildTree("6.1.0-999-amd64"));
        error.Diagnostic.Code.ShouldBe("KLP1001");
        error.Diagnostic.Message.ShouldContain(newest);
    }

    [Fact]
    public void A_wildcard_that_matches_nothing_is_KLP1017()
    {
        Should.Throw<DiagnosticException>(() => Provider().ResolveRelease("1.0.*-amd64")).Diagnostic.Code.ShouldBe("KLP1017");
    }

    [Fact]
    public void No_apt_lists_is_KLP1002()
    {
        var empty = Directory.CreateTempSubdirectory("klp-lists-").FullName;
        var provider = new DebianKernelProvider(new DebianArchive(empty), new KernelCache(Directory.CreateTempSubdirectory("klp-cache-").FullName));
        var error = Should.Throw<DiagnosticException>(() => provider.ProvideBuildTree(TestKernels.NewestRelease("6.1")));
        error.Diagnostic.Code.ShouldBe("KLP1002");
        error.Diagnostic.Message.ShouldContain("apt-get update");
    }

    [Fact]
    public void Two_builds_filling_an_empty_cache_at_once_share_one_complete_tree()
    {
        var release = TestKernels.NewestRelease("6.1");
        var cache = Directory.CreateTempSubdirectory("klp-cache-").FullName;
        var results = new KernelTarget[2];
        Parallel.For(0, 2, i => results[i] = Provider(cache).ProvideBuildTree(release));

        results[0].BuildDirectory.ShouldBe(results[1].BuildDirectory);
        File.Exists(results[0].ConfigPath).ShouldBeTrue();
        Directory.GetDirectories(Path.Combine(cache, "kernels", release), "*.tmp-*", SearchOption.AllDirectories).ShouldBeEmpty();
        Directory.Delete(cache, true);
    }
}
