using System.Diagnostics;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>
/// An IDE loading the project (Rider, Visual Studio's project system) runs design-time builds
/// (DesignTimeBuild=true) constantly: they never fetch a kernel, run kbuild or boot a VM, and finish quickly.
/// The kernel cache is an empty folder, so any fetch would show, and the release is one the archive serves, so a
/// normal build would fetch it.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class DesignTimeBuildTests
{
    /// <summary>The design-time targets of the IDEs' project systems, then the targets a user may start.</summary>
    private const string IdeTargets =
        "ResolveAssemblyReferencesDesignTime;ResolveProjectReferencesDesignTime;ResolvePackageDependenciesDesignTime;CollectPackageReferences;Build";

    public static TheoryData<string, string> ProjectsAndTargets => new()
    {
        { "<KernelRelease>{0}</KernelRelease>", IdeTargets },
        { "<KernelRelease>{0}</KernelRelease>", "Test" },
        { "<KernelReleases>6.1.0-*-amd64;{0}</KernelReleases>", IdeTargets },
        { "<KernelReleases>6.1.0-*-amd64;{0}</KernelReleases>", "Test" },
    };

    [Theory]
    [MemberData(nameof(ProjectsAndTargets))]
    public void A_design_time_build_fetches_no_kernel_runs_no_kbuild_and_boots_no_vm(string kernelProperty, string targets)
    {
        var release = TestKernels.NewestRelease("6.12");
        using var project = new TestProject("design-time", $"""
              <PropertyGroup>
                {string.Format(kernelProperty, release)}
              </PropertyGroup>
              <ItemGroup>
                <PatchedFunction Include="cmdline_proc_show" Replacement="lp_cmdline" />
                <VmCheck Include="cat /proc/cmdline" ExpectedPatched="patched" />
              </ItemGroup>
            """,
            ("livepatch.c", "#include <linux/seq_file.h>\nint lp_cmdline(struct seq_file *m, void *v) { seq_puts(m, \"patched\\n\"); return 0; }\n"));
        var cacheHome = Directory.CreateTempSubdirectory("klp-design-time-cache-").FullName;
        try
        {
            var clock = Stopwatch.StartNew();
            var result = project.Build(new Dictionary<string, string?> { ["XDG_CACHE_HOME"] = cacheHome },
                $"-t:{targets}", "-p:DesignTimeBuild=true", "-p:SkipCompilerExecution=true", "-p:ProvideCommandLineArgs=true");
            clock.Stop();

            result.Succeeded.ShouldBeTrue(result.ToString());
            result.Errors.ShouldBeEmpty(result.ToString());
            var kernelCache = Path.Combine(cacheHome, "klp-build");
            (Directory.Exists(kernelCache) ? Directory.GetFileSystemEntries(kernelCache, "*", SearchOption.AllDirectories) : [])
                .ShouldBeEmpty("a design-time build fetched kernel packages");
            var obj = Path.Combine(project.Directory, "obj");
            Directory.GetDirectories(obj, "kbuild", SearchOption.AllDirectories).ShouldBeEmpty("a design-time build ran kbuild");
            Directory.GetDirectories(obj, "vm", SearchOption.AllDirectories).ShouldBeEmpty("a design-time build booted a VM");
            File.Exists(Path.Combine(project.Directory, "compile_commands.json")).ShouldBeFalse();
            var bin = Path.Combine(project.Directory, "bin");
            (Directory.Exists(bin) ? Directory.GetFiles(bin, "*.ko", SearchOption.AllDirectories) : []).ShouldBeEmpty();
            result.Output.ShouldNotContain("proven live");
            clock.Elapsed.ShouldBeLessThan(TimeSpan.FromMinutes(2), result.ToString());
        }
        finally
        {
            Directory.Delete(cacheHome, recursive: true);
        }
    }
}
