using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>KernelReleases: one dotnet build, one inner build per release (a 6.1 and a 6.12 kernel).</summary>
[Collection(SdkCollection.Name)]
public sealed class MultiKernelBuildTests
{
    private static readonly string Release61 = TestKernels.NewestRelease("6.1");
    private static readonly string Release612 = TestKernels.NewestRelease("6.12");

    private static TestProject CmdlineProject(string name, string extraSource = "") => new(name, """
          <PropertyGroup>
            <KernelReleases>6.1.0-*-amd64;6.12.*+deb12-amd64</KernelReleases>
            <EnableSafetyAnalysis>false</EnableSafetyAnalysis>
          </PropertyGroup>
          <ItemGroup>
            <PatchedFunction Include="cmdline_proc_show" Replacement="lp_cmdline" />
            <VmCheck Include="cat /proc/cmdline" ExpectedPatched="multi patched" />
          </ItemGroup>
        """,
        ("livepatch.c", $$"""
            #include <linux/seq_file.h>

            int lp_cmdline(struct seq_file *m, void *v)
            {
            {{extraSource}}
            	seq_puts(m, "multi patched\n");
            	return 0;
            }
            """));

    [Fact]
    public void One_build_builds_every_release_and_says_which_release_a_diagnostic_holds_for()
    {
        using var project = CmdlineProject("multi-build", "\tint unused_here;");

        var result = project.Build();

        result.Succeeded.ShouldBeTrue(result.ToString());
        foreach (var release in new[] { Release61, Release612 })
        {
            File.Exists(Path.Combine(project.OutputDirectory(release), "multi_build.ko")).ShouldBeTrue(result.ToString());
            result.Warnings.ShouldContain(w => w.Code == "KLP2002" && w.Message.StartsWith($"[{release}] ") && w.Message.Contains("unused_here"), result.ToString());
            File.Exists(Path.Combine(project.Directory, "obj", "Debug", release, "kbuild", "klp-registration.c")).ShouldBeTrue();
        }
        // Editors: every release's compilation database in its obj folder, the first release's next to the project.
        foreach (var release in new[] { Release61, Release612 })
            File.ReadAllText(Path.Combine(project.Directory, "obj", "Debug", release, "compile_commands.json")).ShouldContain($"/{release}/");
        var editorDatabase = File.ReadAllText(Path.Combine(project.Directory, "compile_commands.json"));
        editorDatabase.ShouldContain($"/{Release61}/");
        editorDatabase.ShouldNotContain(Release612);
        // The .NET SDK's bookkeeping of each inner build stays in its release's folder.
        Directory.GetFiles(Path.Combine(project.Directory, "obj", "Debug"), "*", SearchOption.TopDirectoryOnly).ShouldBeEmpty();

        var clean = project.Build("-t:Clean");
        clean.Succeeded.ShouldBeTrue(clean.ToString());
        Directory.Exists(project.OutputDirectory(Release61)).ShouldBeFalse();
        Directory.Exists(project.OutputDirectory(Release612)).ShouldBeFalse();
    }

    [Fact]
    public void KernelDir_with_KernelReleases_is_KLP6101()
    {
        using var project = CmdlineProject("multi-kerneldir");

        var result = project.Build("-p:KernelDir=/nonexistent");

        result.Succeeded.ShouldBeFalse();
        result.Errors.ShouldContain(e => e.Code == "KLP6101", result.ToString());
    }

    [Fact]
    public void Test_proves_each_release_in_its_own_kernel()
    {
        using var project = CmdlineProject("multi-test");

        var result = project.Build("-t:Test");

        result.Succeeded.ShouldBeTrue(result.ToString());
        foreach (var release in new[] { Release61, Release612 })
            result.Output.ShouldContain($"-> {Path.Combine(project.OutputDirectory(release), "multi_test.ko")} (proven live in {release})", Case.Sensitive, result.ToString());
    }
}
