using System.Text.RegularExpressions;
using Klp.Build.Processes;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>klp-convert as a step of every build, checked with binutils' readelf as an independent reader.</summary>
[Collection(SdkCollection.Name)]
public sealed class ConversionBuildTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");

    private static string ReadElf(string option, string file)
    {
        var result = ProcessRunner.Run("readelf", [option, "-W", file]);
        result.Succeeded.ShouldBeTrue(result.StandardError);
        return result.StandardOutput;
    }

    [Fact]
    public void A_non_exported_vmlinux_symbol_becomes_a_livepatch_relocation()
    {
        using var project = TestProject.FromSample("cmdline-saved", Release);
        project.Build().Succeeded.ShouldBeTrue();
        var module = Directory.GetFiles(project.OutputDirectory(Release), "*.ko").Single();

        var sections = ReadElf("-S", module);
        var klpRela = Regex.Match(sections, @"\[\s*(\d+)\] \.klp\.rela\.vmlinux\.\.text\s+RELA\s+\S+\s+\S+\s+\S+\s+18\s+(\S+)\s+(\d+)\s+(\d+)\s+8");
        klpRela.Success.ShouldBeTrue(sections);
        klpRela.Groups[2].Value.ShouldBe("AIo", "SHF_ALLOC | SHF_INFO_LINK | SHF_RELA_LIVEPATCH (an OS flag)");
        var symtabIndex = Regex.Match(sections, @"\[\s*(\d+)\] \.symtab\s").Groups[1].Value;
        var textIndex = Regex.Match(sections, @"\[\s*(\d+)\] \.text\s").Groups[1].Value;
        klpRela.Groups[3].Value.ShouldBe(symtabIndex);
        klpRela.Groups[4].Value.ShouldBe(textIndex);

        var symbols = ReadElf("-s", module);
        symbols.ShouldMatch(@"GLOBAL\s+DEFAULT\s+OS \[0xff20\] \.klp\.sym\.vmlinux\.saved_command_line,0");
        symbols.ShouldNotMatch(@"UND saved_command_line\b");
        var relocations = ReadElf("-r", module);
        relocations.ShouldContain("Relocation section '.klp.rela.vmlinux..text'");
        relocations.ShouldMatch(@"R_X86_64_\S+\s+0+\s+\.klp\.sym\.vmlinux\.saved_command_line,0");
        var flags = Regex.Match(ReadElf("-S", module).Replace("\n", " "), @"\.klp\.rela\.vmlinux\.\.text").Success;
        flags.ShouldBeTrue();
    }

    [Fact]
    public void An_ambiguous_name_lists_every_candidate_and_the_line_to_add()
    {
        using var project = TestProject.FromSample("sympos-call", Release);
        File.WriteAllText(project.ProjectPath, Regex.Replace(File.ReadAllText(project.ProjectPath), @"\s*<KernelSymbol [^>]*/>", ""));
        var occurrences = Regex.Matches(ProcessRunner.Run("nm", ["-n", TestKernels.DebugVmlinux(Release)]).StandardOutput, @" [tT] cpuid_eax$", RegexOptions.Multiline).Count;
        occurrences.ShouldBeGreaterThan(1, "the test needs a name vmlinux has more than once");

        var result = project.Build();

        result.Succeeded.ShouldBeFalse();
        // KLP3020 when only vmlinux has the name; KLP3022 when a module has it too (Debian 6.1's kvm_intel does).
        var error = result.Errors.Single(e => e.Code is "KLP3020" or "KLP3022");
        result.Errors.ShouldNotContain(e => e.Code == "KLP3030", "an explained name is not reported again");
        error.Message.ShouldContain("cpuid_eax");
        for (var position = 1; position <= occurrences; position++)
            error.Message.ShouldContain($"position {position}");
        error.Message.ShouldContain("<KernelSymbol Include=\"cpuid_eax\" Object=\"vmlinux\" Position=\"");
        Directory.Exists(project.OutputDirectory(Release)).ShouldBeFalse("no module is published when conversion fails");
    }

    [Fact]
    public void A_symbol_the_kernel_has_only_as_a_clone_suggests_the_clone()
    {
        var names = Regex.Matches(ProcessRunner.Run("nm", [TestKernels.DebugVmlinux(Release)]).StandardOutput, @" \w (\S+)$", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToHashSet();
        var name = names.Where(n => n.EndsWith(".isra.0", StringComparison.Ordinal)).Select(n => n[..^".isra.0".Length])
            .Where(n => Regex.IsMatch(n, "^[a-z_]{6,}$") && !names.Contains(n)).Order(StringComparer.Ordinal).First();
        using var project = new TestProject("clone", $"""
              <PropertyGroup><KernelRelease>{Release}</KernelRelease></PropertyGroup>
              <ItemGroup><PatchedFunction Include="cmdline_proc_show" Replacement="lp_cmdline" /></ItemGroup>
            """, ("livepatch.c", $$"""
            #include <linux/seq_file.h>
            extern void klp_missing(void) __asm__("{{name}}");
            int lp_cmdline(struct seq_file *m, void *v)
            {
            	klp_missing();
            	return 0;
            }
            """));

        var result = project.Build();

        var error = result.Errors.Single(e => e.Code == "KLP3021");
        error.Message.ShouldContain(name + ".isra.0");
    }
}
