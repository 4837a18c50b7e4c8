using System.Text.RegularExpressions;
using System.Xml.Linq;
using Klp.Build.Processes;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>
/// The dotnet new templates, installed from the local feed into a private template store, instantiated as a user
/// would, then built by the real dotnet CLI against a real Debian kernel and proven live in it.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class TemplateTests
{
    /// <summary>Module symbols resolve only when their module loads: the build says so, as a warning.</summary>
    private static readonly string[] ExpectedWarnings = ["KLP3029"];

    [Fact]
    public void The_template_package_holds_only_the_two_templates_pinned_to_the_sdk_version()
    {
        var package = TemplatePackage.EnsurePacked();

        var listing = ProcessRunner.Run("unzip", ["-Z1", package]);
        listing.Succeeded.ShouldBeTrue(listing.StandardError);
        var files = listing.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        files.ShouldNotContain(f => f.EndsWith(".dll"));
        files.Where(f => f.EndsWith("/.template.config/template.json")).Order()
            .ShouldBe(["content/klp-module/.template.config/template.json", "content/klp/.template.config/template.json"]);
        foreach (var template in new[] { "klp", "klp-module" })
        {
            var configuration = ProcessRunner.Run("unzip", ["-p", package, $"content/{template}/.template.config/template.json"]).StandardOutput;
            configuration.ShouldContain($"\"value\": \"{RepositoryLayout.SdkVersion}\"");
            configuration.ShouldNotContain("@KlpBuildSdkVersion@");
        }
        var nuspec = ProcessRunner.Run("unzip", ["-p", package, $"{TemplatePackage.Id}.nuspec"]).StandardOutput;
        nuspec.ShouldContain("<packageType name=\"Template\" />");
        nuspec.ShouldContain($"<version>{RepositoryLayout.SdkVersion}</version>");
    }

    [Fact]
    public void The_klp_template_creates_a_vmlinux_patch_that_builds_and_is_proven_live()
    {
        var release = TestKernels.NewestRelease("6.1");
        using var hive = new TemplateHive();

        var (created, directory) = hive.New("klp", "fix-foo", "--kernel-release", release, "--feed", RepositoryLayout.Feed);

        created.Succeeded.ShouldBeTrue(created.StandardOutput + created.StandardError);
        ShouldHaveTheProjectFiles(directory, "fix-foo", "fix_foo");
        File.ReadAllText(Path.Combine(directory, "livepatch.c")).ShouldContain("int livepatch_cmdline_proc_show(struct seq_file *m, void *v)");
        ShouldBeProvenLive(directory, "fix-foo", "fix_foo", release, "this has been live patched");
    }

    [Fact]
    public void The_klp_module_template_creates_a_module_patch_that_builds_and_is_proven_live()
    {
        var release = TestKernels.NewestRelease("6.1");
        using var hive = new TemplateHive();

        var (created, directory) = hive.New("klp-module", "fix-binfmt.status", "--kernel-release", release, "--object", "binfmt_misc",
            "--feed", RepositoryLayout.Feed);

        created.Succeeded.ShouldBeTrue(created.StandardOutput + created.StandardError);
        ShouldHaveTheProjectFiles(directory, "fix-binfmt.status", "fix_binfmt_status");
        File.ReadAllText(Path.Combine(directory, "fix-binfmt.status.klpproj"))
            .ShouldContain("<PatchedFunction Include=\"bm_status_read\" Object=\"binfmt_misc\" Replacement=\"livepatch_bm_status_read\" />");
        ShouldBeProvenLive(directory, "fix-binfmt.status", "fix_binfmt_status", release, "enabled (live patched)");
    }

    [Fact]
    public void A_function_the_template_does_not_know_gets_a_build_error_asking_for_its_prototype()
    {
        var release = TestKernels.NewestRelease("6.1");
        using var hive = new TemplateHive();

        var (created, directory) = hive.New("klp", "fix-open", "--kernel-release", release, "--function", "do_sys_open", "--feed", RepositoryLayout.Feed);

        created.Succeeded.ShouldBeTrue(created.StandardOutput + created.StandardError);
        var project = File.ReadAllText(Path.Combine(directory, "fix-open.klpproj"));
        project.ShouldContain("<PatchedFunction Include=\"do_sys_open\" Replacement=\"livepatch_do_sys_open\" />");
        XDocument.Parse(project).Descendants("VmCheck").ShouldBeEmpty("a check of cmdline_proc_show's output proves nothing about do_sys_open");
        var result = DotnetBuild.Run(Path.Combine(directory, "fix-open.klpproj"));
        result.Succeeded.ShouldBeFalse(result.ToString());
        result.Errors.ShouldContain(e => e.Code == "KLP2001" && e.File.EndsWith("livepatch.c")
                                         && e.Message.Contains("give livepatch_do_sys_open the prototype and body of do_sys_open"), result.ToString());
        Directory.EnumerateFiles(directory, "*.ko", SearchOption.AllDirectories).ShouldBeEmpty();
    }

    private static void ShouldHaveTheProjectFiles(string directory, string name, string moduleName)
    {
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(directory, f)).Order()
            .ShouldBe(new[] { ".gitignore", "README.md", "global.json", "livepatch.c", $"{name}.klpproj", "nuget.config" }.Order());
        File.ReadAllText(Path.Combine(directory, "global.json"))
            .ShouldContain($"\"Klp.Build.Sdk\": \"{RepositoryLayout.SdkVersion}\"");
        File.ReadAllText(Path.Combine(directory, "nuget.config")).ShouldContain($"value=\"{RepositoryLayout.Feed}\"");
        File.ReadAllText(Path.Combine(directory, $"{name}.klpproj")).ShouldContain($"<ModuleName>{moduleName}</ModuleName>");
        var readme = File.ReadAllText(Path.Combine(directory, "README.md"));
        readme.ShouldContain("dotnet build -t:Test");
        readme.ShouldContain($"/sys/kernel/livepatch/{moduleName}");
        readme.ShouldNotContain("KLP_");
    }

    private static void ShouldBeProvenLive(string directory, string name, string moduleName, string release, string patchedOutput)
    {
        var result = DotnetBuild.Run(Path.Combine(directory, name + ".klpproj"), "-t:Test");

        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Warnings.Where(w => !ExpectedWarnings.Contains(w.Code)).ShouldBeEmpty(result.ToString());
        var module = Path.Combine(directory, "bin", "Debug", release, moduleName + ".ko");
        result.Output.ShouldContain($"-> {module} (proven live in {release})");
        result.Output.ShouldContain("result: passed");
        result.Output.ShouldMatch($@"(?m)^\s*patched:\s+{Regex.Escape(patchedOutput)}\s*$");
        Modinfo(module, "name").ShouldBe(moduleName);
        Modinfo(module, "livepatch").ShouldBe("Y");
        Modinfo(module, "vermagic").ShouldStartWith(release + " ");
    }

    private static string Modinfo(string module, string field)
    {
        var run = ProcessRunner.Run("modinfo", ["-F", field, module]);
        run.Succeeded.ShouldBeTrue(run.StandardError);
        return run.StandardOutput.Trim();
    }
}
