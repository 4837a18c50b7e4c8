using Klp.Build.Elf;
using Klp.Build.Processes;
using Klp.Build.Signing;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>Signing (KlpSignModule) and reproducible modules, through the real dotnet build.</summary>
[Collection(SdkCollection.Name)]
public sealed class SigningBuildTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");

    private static TestProject Cmdline(string name, string properties = "") => new(name, $"""
          <PropertyGroup><KernelRelease>{Release}</KernelRelease><EnableSafetyAnalysis>false</EnableSafetyAnalysis>{properties}</PropertyGroup>
          <ItemGroup><PatchedFunction Include="cmdline_proc_show" Replacement="livepatch_cmdline_proc_show" /></ItemGroup>
        """, ("livepatch.c", """
        #include <linux/seq_file.h>
        int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
        {
        	seq_printf(m, "%s\n", "patched, signed, reproducible");
        	return 0;
        }
        """));

    [Fact]
    public void A_signed_build_appends_a_signature_that_verifies_and_modinfo_shows()
    {
        using var key = new TestSigningKey("Klp signing build test");
        using var project = Cmdline("signed", $"<ModuleSigningKey>{key.Key}</ModuleSigningKey><ModuleSigningCertificate>{key.Certificate}</ModuleSigningCertificate>");

        var build = project.Build("-v:n");

        build.Succeeded.ShouldBeTrue(build.ToString());
        build.Output.ShouldContain("Signed signed.ko: signer 'Klp signing build test', sha256");
        build.Output.ShouldNotContain("is not signed");
        var module = Path.Combine(project.OutputDirectory(Release), "signed.ko");
        var bytes = File.ReadAllBytes(module);
        var signature = ModuleSignature.Read(bytes, out var problem).ShouldNotBeNull(problem);
        signature.Signer.ShouldBe("Klp signing build test");
        using (var certificate = ModuleSignature.LoadCertificate(key.Certificate)) signature.Verify(bytes, certificate).ShouldBeNull();
        var modinfo = ProcessRunner.Run("modinfo", [module]).StandardOutput;
        modinfo.ShouldContain("signer:");
        modinfo.ShouldContain("Klp signing build test");
        modinfo.ShouldContain("sig_hashalgo:");
        modinfo.ShouldContain("livepatch:");
        ProcessRunner.Run("modinfo", ["-F", "sig_hashalgo", module]).StandardOutput.Trim().ShouldBe("sha256");

        // Up to date: nothing is signed again. Another hash: signed again.
        project.Build("-v:n").Output.ShouldContain("Skipping target \"KlpSignModule\"");
        var sha512 = project.Build("-p:ModuleSigningHash=sha512");
        sha512.Succeeded.ShouldBeTrue(sha512.ToString());
        ProcessRunner.Run("modinfo", ["-F", "sig_hashalgo", module]).StandardOutput.Trim().ShouldBe("sha512");
    }

    [Fact]
    public void An_unsigned_build_says_so_once_and_a_missing_key_is_KLP6001()
    {
        using var project = Cmdline("unsigned");
        var build = project.Build("-v:n");
        build.Succeeded.ShouldBeTrue(build.ToString());
        build.Output.Split('\n').Count(l => l.Contains("The module is not signed")).ShouldBe(1, build.Output);
        ModuleSignature.HasMarker(File.ReadAllBytes(Path.Combine(project.OutputDirectory(Release), "unsigned.ko"))).ShouldBeFalse();

        var missing = project.Build($"-p:ModuleSigningKey={Path.Combine(project.Directory, "no-key.pem")}");
        missing.Succeeded.ShouldBeFalse();
        missing.Errors.Select(e => e.Code).Distinct().ShouldBe(["KLP6001"], missing.Output);
    }

    [Fact]
    public async Task Two_builds_in_different_directories_at_different_times_give_identical_modules()
    {
        using var key = new TestSigningKey();
        var environment = new Dictionary<string, string?> { ["SOURCE_DATE_EPOCH"] = "1700000000" };
        var signing = $"-p:ModuleSigningKey={key.Key};ModuleSigningCertificate={key.Certificate}";
        using var first = Cmdline("repro");
        using var second = Cmdline("repro");
        first.Directory.ShouldNotBe(second.Directory);

        var a = first.Build(environment, signing);
        a.Succeeded.ShouldBeTrue(a.ToString());
        await Task.Delay(TimeSpan.FromSeconds(2));
        var b = second.Build(environment, signing);
        b.Succeeded.ShouldBeTrue(b.ToString());

        // The unsigned (converted) modules, then the signed ones that bin/ holds.
        CompareModules(Path.Combine(first.Directory, "obj", "Debug", Release, "repro.ko"), Path.Combine(second.Directory, "obj", "Debug", Release, "repro.ko"));
        CompareModules(Path.Combine(first.OutputDirectory(Release), "repro.ko"), Path.Combine(second.OutputDirectory(Release), "repro.ko"));
    }

    private static void CompareModules(string first, string second)
    {
        var a = File.ReadAllBytes(first);
        var b = File.ReadAllBytes(second);
        if (a.AsSpan().SequenceEqual(b)) return;
        var elfA = ElfReader.Read(a, first, new Diagnostics.DiagnosticBag());
        var elfB = ElfReader.Read(b, second, new Diagnostics.DiagnosticBag());
        var differences = new List<string> { $"{first} ({a.Length} bytes) and {second} ({b.Length} bytes) differ" };
        if (elfA is not null && elfB is not null)
        {
            var sectionsB = elfB.Sections.Where(s => s.Name.Length > 0).GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First());
            foreach (var section in elfA.Sections.Where(s => s.Name.Length > 0))
            {
                if (!sectionsB.TryGetValue(section.Name, out var other)) { differences.Add($"{section.Name}: only in the first"); continue; }
                if (section.Size != other.Size) differences.Add($"{section.Name}: size {section.Size} vs {other.Size}");
                else if (section is not ElfNoBitsSection && !Bytes(a, section).SequenceEqual(Bytes(b, other)))
                    differences.Add($"{section.Name}: content differs ({section.Size} bytes)");
            }
            differences.AddRange(sectionsB.Keys.Except(elfA.Sections.Select(s => s.Name)).Select(n => $"{n}: only in the second"));
        }
        throw new Shouldly.ShouldAssertException(string.Join("\n", differences));
    }

    private static ReadOnlySpan<byte> Bytes(byte[] file, ElfSection section) =>
        section.OriginalOffset + section.Size <= (ulong)file.Length ? file.AsSpan((int)section.OriginalOffset, (int)section.Size) : [];
}
