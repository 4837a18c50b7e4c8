using Klp.Build.Packaging;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>LivepatchPackaging=PerObject: one patch module per patched object, a manifest and modprobe.d softdeps.</summary>
[Collection(SdkCollection.Name)]
public sealed class PackagingBuildTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");

    [Fact]
    public void PerObject_builds_one_module_per_object_with_manifest_and_softdeps()
    {
        using var project = new TestProject("perobject", $"""
              <PropertyGroup>
                <KernelRelease>{Release}</KernelRelease>
                <LivepatchPackaging>PerObject</LivepatchPackaging>
                <EnableSafetyAnalysis>false</EnableSafetyAnalysis>
              </PropertyGroup>
              <ItemGroup>
                <PatchedFunction Include="cmdline_proc_show" Replacement="lp_cmdline" />
                <PatchedFunction Include="bm_status_read" Object="binfmt_misc" Replacement="lp_status" />
              </ItemGroup>
            """,
            ("livepatch.c", """
                #include <linux/fs.h>
                #include <linux/seq_file.h>
                #include <linux/string.h>

                int lp_cmdline(struct seq_file *m, void *v)
                {
                	seq_puts(m, "cmdline patched\n");
                	return 0;
                }

                ssize_t lp_status(struct file *file, char __user *buf, size_t nbytes, loff_t *ppos)
                {
                	static const char s[] = "status patched\n";
                	return simple_read_from_buffer(buf, nbytes, ppos, s, strlen(s));
                }
                """));

        var result = project.Build();

        result.Succeeded.ShouldBeTrue(result.ToString());
        var output = project.OutputDirectory(Release);
        Directory.GetFiles(output, "*.ko").Select(Path.GetFileName).Order().ShouldBe(["perobject_binfmt_misc.ko", "perobject_vmlinux.ko"]);
        var manifest = PatchManifest.FromJson(File.ReadAllText(Path.Combine(output, "perobject.manifest.json")));
        manifest.Packaging.ShouldBe("PerObject");
        manifest.KernelRelease.ShouldBe(Release);
        manifest.Modules.Select(m => (m.Module, m.Object, m.LoadOrder)).ShouldBe([("perobject_vmlinux", "vmlinux", 1), ("perobject_binfmt_misc", "binfmt_misc", 2)]);
        foreach (var module in manifest.Modules)
            module.Sha256.ShouldBe(PatchManifest.Sha256Of(Path.Combine(output, module.File)));
        manifest.Modules[1].Functions.ShouldBe(["bm_status_read"]);
        File.ReadAllText(Path.Combine(output, "perobject.conf")).ShouldContain("softdep binfmt_misc post: perobject_binfmt_misc\n");
        var registration = File.ReadAllText(Path.Combine(project.Directory, "obj", "Debug", Release, "kbuild", "klp-registration-binfmt_misc.c"));
        registration.ShouldContain(".name = \"binfmt_misc\"");
        registration.ShouldNotContain("cmdline_proc_show");
        // One kbuild run for every module: one compile command for the project's one source.
        using var database = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(project.Directory, "compile_commands.json")));
        database.RootElement.EnumerateArray().ShouldHaveSingleItem().GetProperty("file").GetString().ShouldBe(Path.Combine(project.Directory, "livepatch.c"));
    }

    [Fact]
    public void An_unknown_packaging_is_KLP6201()
    {
        using var project = new TestProject("badpackaging", $"""
              <PropertyGroup>
                <KernelRelease>{Release}</KernelRelease>
                <LivepatchPackaging>Split</LivepatchPackaging>
              </PropertyGroup>
              <ItemGroup><PatchedFunction Include="cmdline_proc_show" Replacement="lp_cmdline" /></ItemGroup>
            """, ("livepatch.c", "int lp_cmdline(void) { return 0; }\n"));

        var result = project.Build();

        result.Errors.ShouldContain(e => e.Code == "KLP6201", result.ToString());
    }
}
