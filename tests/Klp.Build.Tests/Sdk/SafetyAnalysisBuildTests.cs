using System.Text.RegularExpressions;
using Klp.Build.Processes;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>
/// The safety analysis as a user meets it: test projects against the real Debian 6.1 kernel whose builds fail or
/// warn with the expected codes and names. Kernel facts come from the packages (nm on the -dbg vmlinux).
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class SafetyAnalysisBuildTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");
    private static readonly Lazy<IReadOnlyList<(ulong Address, char Kind, string Name)>> Nm = new(() =>
        Regex.Matches(ProcessRunner.Run("nm", ["-n", TestKernels.DebugVmlinux(Release)]).StandardOutput, @"^([0-9a-f]+) (\w) (\S+)$", RegexOptions.Multiline)
            .Select(m => (Convert.ToUInt64(m.Groups[1].Value, 16), m.Groups[2].Value[0], m.Groups[3].Value)).ToList());

    private static HashSet<string> FunctionNames => Nm.Value.Where(s => s.Kind is 't' or 'T').Select(s => s.Name).ToHashSet();

    private static BuildResult Build(string name, string function, string replacement, string extraItems = "", string extraProperties = "",
        string position = "")
    {
        using var project = new TestProject(name, $"""
              <PropertyGroup><KernelRelease>{Release}</KernelRelease>{extraProperties}</PropertyGroup>
              <ItemGroup>
                <PatchedFunction Include="{function}" Replacement="lp_replacement"{(position.Length > 0 ? $" Position=\"{position}\"" : "")} />
                {extraItems}
              </ItemGroup>
            """, ("livepatch.c", $$"""
            #include <linux/kernel.h>
            #include <linux/seq_file.h>
            {{replacement}}
            """));
        var result = project.Build("-v:d");
        if (result.Succeeded)
            File.Exists(Path.Combine(project.Directory, "obj", "Debug", Release, "klp-safety.json")).ShouldBeTrue();
        return result;
    }

    [Fact]
    public void Cmdline_proc_show_is_clean()
    {
        using var project = TestProject.FromSample("cmdline", Release);
        var result = project.Build("-v:d");
        result.Succeeded.ShouldBeTrue(result.ToString());
        result.Diagnostics.ShouldNotContain(d => d.Code.StartsWith("KLP4"));
        var report = File.ReadAllText(Path.Combine(project.Directory, "obj", "Debug", Release, "klp-safety.json"));
        report.ShouldContain("cmdline_proc_show");
        result.Output.ShouldContain("vmlinux:cmdline_proc_show -> livepatch_cmdline_proc_show: clean");
    }

    [Fact]
    public void A_fully_inlined_function_names_the_functions_to_patch_instead()
    {
        FunctionNames.ShouldNotContain("show_val_kb", "the test expects show_val_kb to be fully inlined in this kernel");
        var result = Build("inlined", "show_val_kb", "void lp_replacement(struct seq_file *m, const char *s, unsigned long num) { }");

        result.Succeeded.ShouldBeFalse();
        var error = result.Errors.Single(e => e.Code == "KLP4101");
        error.Message.ShouldContain("meminfo_proc_show");
        error.Line.ShouldBeGreaterThan(0, "the error points at the PatchedFunction item");
    }

    public static TheoryData<string> CloneKinds => new() { ".isra.", ".constprop.", ".part.", ".cold" };

    [Theory]
    [MemberData(nameof(CloneKinds))]
    public void A_function_with_a_clone_is_reported_with_the_clone_and_its_callers(string kind)
    {
        var names = FunctionNames;
        var counts = Nm.Value.GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.Count());
        var clone = names.Where(n => n.Contains(kind, StringComparison.Ordinal) && Regex.IsMatch(n, @"^[a-z][a-z0-9_]+(\.[a-z]+\.?\d*)+$"))
            .Select(n => (Clone: n, Base: n[..n.IndexOf('.')]))
            .Where(c => names.Contains(c.Base) && counts[c.Base] == 1 && counts[c.Clone] == 1 && !c.Clone.EndsWith(".cold") == (kind != ".cold"))
            .OrderBy(c => c.Clone, StringComparer.Ordinal).First(c => kind != ".cold" || c.Clone == c.Base + ".cold");

        var result = Build("clone" + kind.Replace(".", ""), clone.Base, "void lp_replacement(void) { }");

        var finding = result.Diagnostics.FirstOrDefault(d => d.Code == "KLP4103");
        if (kind == ".cold" && finding is null)
        {
            // Only the function's own cold part: an informational line in the summary, not a warning.
            result.Output.ShouldContain($"'{clone.Base}' has a split-off cold part {clone.Clone}");
            result.Output.ShouldContain($"callers of {clone.Clone}: {clone.Base}");
            return;
        }
        finding.ShouldNotBeNull(result.ToString());
        finding.Message.ShouldContain(clone.Clone);
        finding.Message.ShouldContain("called by");
    }

    [Fact]
    public void A_name_that_occurs_many_times_needs_a_position()
    {
        var occurrences = Nm.Value.Count(s => s.Name == "type_show" && s.Kind is 't' or 'T');
        occurrences.ShouldBeGreaterThan(1);

        var result = Build("ambiguous", "type_show", "void lp_replacement(void) { }");

        var error = result.Errors.Single(e => e.Code == "KLP4107");
        error.Message.ShouldContain($"occurs {occurrences} times");
    }

    [Fact]
    public void A_noinstr_function_is_not_patchable()
    {
        var start = Nm.Value.Single(s => s.Name == "__noinstr_text_start").Address;
        var end = Nm.Value.Single(s => s.Name == "__noinstr_text_end").Address;
        var counts = Nm.Value.GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.Count());
        var noinstr = Nm.Value.Where(s => s.Address >= start && s.Address < end && s.Kind is 't' or 'T' && counts[s.Name] == 1 && Regex.IsMatch(s.Name, "^[a-z][a-z0-9_]+$"))
            .Select(s => s.Name).First();

        var result = Build("noinstr", noinstr, "void lp_replacement(void) { }");

        result.Errors.ShouldContain(e => e.Code == "KLP4106" && e.Message.Contains(noinstr), result.ToString());
    }

    [Fact]
    public void Schedule_is_refused()
    {
        var result = Build("schedule", "schedule", "void lp_replacement(void) { }");
        result.Errors.ShouldContain(e => e.Code == "KLP4113" && e.Message.Contains("schedule"), result.ToString());
    }

    [Fact]
    public void A_replacement_with_another_prototype_is_caught()
    {
        var result = Build("prototype", "cmdline_proc_show", "int lp_replacement(int wrong) { return wrong; }");
        var error = result.Errors.Where(e => e.Code == "KLP4112").ShouldHaveSingleItem(result.ToString());
        error.Message.ShouldContain("struct seq_file *");
    }

    [Fact]
    public void The_deeper_mode_follows_gccs_clone_and_inlining_graph()
    {
        var result = Build("deep", "show_val_kb", "void lp_replacement(struct seq_file *m, const char *s, unsigned long num) { }",
            extraProperties: "<EnableDeepCloneAnalysis>true</EnableDeepCloneAnalysis>");

        var finding = result.Diagnostics.Single(d => d.Code == "KLP4204");
        finding.Message.ShouldContain("fs/proc/meminfo.c");
        finding.Message.ShouldContain("meminfo_proc_show (show_val_kb is inlined into meminfo_proc_show)");
    }

    [Fact]
    public void A_replacement_for_a_clone_must_take_the_clones_actual_parameters()
    {
        // An .isra clone whose IPA-SRA'd parameters differ from the function's source prototype.
        var names = FunctionNames;
        var bag = new Klp.Build.Diagnostics.DiagnosticBag();
        var dwarf = Klp.Build.Dwarf.DwarfIndex.Build(TestKernels.DebugVmlinux(Release), bag)!;
        var counts = Nm.Value.GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.Count());
        var (clone, function) = Nm.Value
            .Where(s => s.Name.EndsWith(".isra.0", StringComparison.Ordinal) && counts[s.Name] == 1 && Regex.IsMatch(s.Name, @"^[a-z_]+\.isra\.0$"))
            .Select(s => (Clone: s.Name, Function: dwarf.FindFunctionsContaining(s.Address).FirstOrDefault(f => f.LowAddress == s.Address)))
            .First(c => c.Function is { ConcretePrototype: not null } f && f.Parameters.Count > 0 &&
                        f.ConcretePrototype != f.Prototype && !Regex.IsMatch(f.Prototype, @"enum|\(\*|\[|\.\.\.") &&
                        Regex.IsMatch(f.ReturnType, @"^(void|int|long int|bool|unsigned int)$"));
        var prototype = string.Join(", ", function!.Parameters.Select((p, i) => $"{p.Type} a{i}"));
        var declarations = string.Concat(Regex.Matches(prototype, @"\b(struct|union) (\w+)").Select(m => $"{m.Value};\n").Distinct());

        var result = Build("isra-prototype", clone,
            $"{declarations}{function.ReturnType} lp_replacement({prototype}) {{ {(function.ReturnType == "void" ? "" : "return 0;")} }}");

        var error = result.Errors.FirstOrDefault(e => e.Code == "KLP4104");
        error.ShouldNotBeNull(result.ToString());
        error.Message.ShouldContain(clone);
    }
}
