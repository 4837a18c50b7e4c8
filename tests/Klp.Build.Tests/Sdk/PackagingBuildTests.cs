using Klp.Build.Packaging;
using Klp.Build.Processes;
using Klp.Build.Signing;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>LivepatchPackaging=PerObject: one patch module per patched object, a manifest and modprobe.d softdeps.</summary>
[Collection(SdkCollection.Name)]
public sealed class PackagingBuildTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");

    [Fact]
    public void PerObject_builds_one_signed_module_per_object_with_manifest_and_softdeps()
    {
        using var key = new TestSigningKey("Klp PerObject signing test");
        using var project = PerObjectLivepatch.Create("perobject", Release, "<EnableSafetyAnalysis>false</EnableSafetyAnalysis>");

        var result = project.Build("-v:n", $"-p:ModuleSigningKey={key.Key};ModuleSigningCertificate={key.Certificate}");

        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Output.ShouldNotContain("The module is not signed");
        var output = project.OutputDirectory(Release);
        Directory.GetFiles(output, "*.ko").Select(Path.GetFileName).Order().ShouldBe(["perobject_binfmt_misc.ko", "perobject_vmlinux.ko"]);
        var manifest = PatchManifest.FromJson(File.ReadAllText(Path.Combine(output, "perobject.manifest.json")));
        manifest.Packaging.ShouldBe("PerObject");
        manifest.KernelRelease.ShouldBe(Release);
        manifest.Modules.Select(m => (m.Module, m.Objects.Single().Name, m.LoadOrder)).ShouldBe([("perobject_vmlinux", "vmlinux", 1), ("perobject_binfmt_misc", "binfmt_misc", 2)]);
        manifest.Modules[1].Objects.Single().Functions.ShouldBe(["bm_status_read"]);
        manifest.Softdeps.ShouldBe([new ManifestSoftdep("binfmt_misc", "perobject_binfmt_misc")]);
        foreach (var module in manifest.Modules)
        {
            var path = Path.Combine(output, module.File);
            // sha256sum and modinfo as independent readers of what the manifest says.
            module.Sha256.ShouldBe(ProcessRunner.Run("sha256sum", [path]).StandardOutput.Split(' ')[0]);
            manifest.Vermagic.ShouldBe(ProcessRunner.Run("modinfo", ["-F", "vermagic", path]).StandardOutput.TrimEnd('\n'));
            var bytes = File.ReadAllBytes(path);
            var signature = ModuleSignature.Read(bytes, out var problem).ShouldNotBeNull($"{module.File}: {problem}");
            using (var certificate = ModuleSignature.LoadCertificate(key.Certificate)) signature.Verify(bytes, certificate).ShouldBeNull(module.File);
            ProcessRunner.Run("modinfo", ["-F", "signer", path]).StandardOutput.ShouldContain("Klp PerObject signing test");
            // The unsigned converted module stays in obj/, the signed copy in obj/signed/ is what bin/ holds.
            File.ReadAllBytes(Path.Combine(project.Directory, "obj", "Debug", Release, "signed", module.File)).ShouldBe(bytes);
        }
        manifest.Vermagic.ShouldStartWith(Release + " ");
        File.ReadAllText(Path.Combine(output, "perobject.conf")).ShouldContain("softdep binfmt_misc post: perobject_binfmt_misc\n");
        var registration = File.ReadAllText(Path.Combine(project.Directory, "obj", "Debug", Release, "kbuild", "klp-registration-binfmt_misc.c"));
        registration.ShouldContain(".name = \"binfmt_misc\"");
        registration.ShouldNotContain("cmdline_proc_show");
        // One kbuild run for every module: one compile command for the project's one source.
        using var database = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(project.Directory, "compile_commands.json")));
        database.RootElement.EnumerateArray().ShouldHaveSingleItem().GetProperty("file").GetString().ShouldBe(Path.Combine(project.Directory, "livepatch.c"));

        // Unsigned again: bin/ must not keep the signed copies.
        var unsigned = project.Build("-v:n");
        unsigned.Succeeded.ShouldBeTrue(unsigned.ToString());
        unsigned.Output.Split('\n').Count(l => l.Contains("The module is not signed")).ShouldBe(1, unsigned.Output);
        foreach (var module in manifest.Modules)
            ModuleSignature.HasMarker(File.ReadAllBytes(Path.Combine(output, module.File))).ShouldBeFalse(module.File);
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
