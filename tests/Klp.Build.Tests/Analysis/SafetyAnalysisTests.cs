using System.Text.RegularExpressions;
using Klp.Build.Analysis;
using Xunit.Abstractions;

namespace Klp.Build.Tests.Analysis;

/// <summary>The safety analysis on the real Debian 6.1 amd64 kernel; every kernel fact is found by the test, then checked against objdump.</summary>
[Collection(Kernel61AnalysisCollection.Name)]
public sealed class SafetyAnalysisTests(Kernel61AnalysisFixture kernel, ITestOutputHelper output)
{
    private ObjectFacts Vmlinux => kernel.Facts.Vmlinux;

    private bool IsUniqueFunction(string name) =>
        Vmlinux.Occurrences(name) is [{ Function: not null }] && Vmlinux.Code.Named(name).Count == 1;

    [Fact]
    public void CallersIndexIsMadeColdThenReadWarm()
    {
        kernel.ColdHit.ShouldBeFalse();
        kernel.WarmIndex.Count.ShouldBe(kernel.Facts.Vmlinux.Callers.Count);
        kernel.WarmIndex.Count.ShouldBeGreaterThan(100_000);
        output.WriteLine($"callers index: cold {kernel.ColdCallers.TotalMilliseconds:F0} ms, warm {kernel.WarmCallers.TotalMilliseconds:F0} ms, {kernel.WarmIndex.Count} sites; vmlinux read {kernel.Facts.Timings["read"].TotalMilliseconds:F0} ms");
        // seq_puts is called by cmdline_proc_show: the index and objdump agree.
        var seqPuts = Vmlinux.Code.Named("seq_puts").Single();
        var show = Vmlinux.Code.Named("cmdline_proc_show").Single();
        var sites = kernel.WarmIndex.CallsTo(seqPuts.Address).Where(c => show.Contains(c.Site)).ToList();
        sites.ShouldNotBeEmpty();
        kernel.Objdump(show.Address, show.End).ShouldContain(l => l.Contains("call") && l.Contains("<seq_puts>") && l.TrimStart().StartsWith($"{sites[0].Site:x}:"));
    }

    [Fact]
    public void CmdlineProcShowIsClean()
    {
        var report = kernel.Analyze(new PatchedFunctionRequest("cmdline_proc_show"));
        output.WriteLine(report.ToText());
        report.Functions.Single().Findings.Where(f => f.Severity != SafetySeverity.Info).ShouldBeEmpty();
        report.Functions.Single().IsClean.ShouldBeTrue();
    }

    [Fact]
    public void TypeShowWithoutPositionIsAmbiguous()
    {
        var count = Vmlinux.Occurrences("type_show").Count;
        count.ShouldBeGreaterThan(1);
        var report = kernel.Analyze(new PatchedFunctionRequest("type_show"));
        output.WriteLine(report.ToText());
        var finding = report.Findings.Single(f => f.Code == SafetyCodes.Ambiguous);
        finding.Severity.ShouldBe(SafetySeverity.Error);
        finding.Message.ShouldContain($"occurs {count} times");
        finding.Details!["candidates"].Count.ShouldBe(count);
        kernel.Analyze(new PatchedFunctionRequest("type_show", Position: 2)).Findings.ShouldNotContain(f => f.Code == SafetyCodes.Ambiguous);
        kernel.Analyze(new PatchedFunctionRequest("type_show", Position: count + 1)).Findings.ShouldContain(f => f.Code == SafetyCodes.InvalidPosition);
    }

    [Theory]
    [InlineData("schedule")]
    [InlineData("__schedule")]
    [InlineData("do_exit")]
    [InlineData("worker_thread")]
    public void SchedulerAndStackSwitchingFunctionsAreRefused(string name)
    {
        var report = kernel.Analyze(new PatchedFunctionRequest(name));
        output.WriteLine(report.ToText());
        report.Findings.ShouldContain(f => f.Code == SafetyCodes.UnsafeToReplace && f.Severity == SafetySeverity.Error);
    }

    [Fact]
    public void MissingFunctionIsReported()
    {
        var report = kernel.Analyze(new PatchedFunctionRequest("no_such_function_in_vmlinux"));
        report.Findings.Single().Code.ShouldBe(SafetyCodes.NotInObject);
    }

    [Theory]
    [InlineData("isra")]
    [InlineData("constprop")]
    [InlineData("part")]
    [InlineData("cold")]
    public void ClonesAreReportedWithTheirCallers(string kind)
    {
        // A real clone of this kind whose original is a unique function, whose clone is reached from another function.
        var (original, clone, caller) = Vmlinux.Code.Functions
            .Where(f => CloneNames.Kinds(f.Name) is [var only] && only == kind)
            .Select(f => (Original: CloneNames.BaseName(f.Name), Clone: f))
            .Where(c => IsUniqueFunction(c.Original) && UnsafeFunctions.Reason(c.Original) is null)
            .Select(c => (c.Original, c.Clone, Caller: Vmlinux.Callers.CallsTo(c.Clone.Address)
                .Select(s => Vmlinux.Code.Containing(s.Site)).FirstOrDefault(f => f is not null && f.Name != c.Clone.Name)))
            .First(c => c.Caller is not null);
        output.WriteLine($"{kind}: {original} has clone {clone.Name}, reached from {caller!.Name}");

        // objdump agrees that the caller branches to the clone.
        kernel.Objdump(caller.Address, caller.End).ShouldContain(l => l.Contains($"<{clone.Name}>"));

        var report = kernel.Analyze(new PatchedFunctionRequest(original));
        output.WriteLine(report.ToText());
        var finding = report.Findings.Single(f => f.Code == SafetyCodes.Clones);
        finding.Details!["clones"].ShouldContain(clone.Name);
        finding.Details[$"callers of {clone.Name}"].ShouldContain(caller.Name);
        if (kind != "cold") finding.Severity.ShouldBe(SafetySeverity.Warning);
        finding.Message.ShouldContain(clone.Name);
    }

    [Fact]
    public void NoinstrFunctionIsNotPatchable()
    {
        // noinstr code sits between __noinstr_text_start and __noinstr_text_end (the linker script's .noinstr.text input sections).
        var nm = Klp.Build.Processes.ProcessRunner.Run("nm", [kernel.Vmlinux]).StandardOutput;
        ulong Label(string name) => Convert.ToUInt64(Regex.Match(nm, $"^([0-9a-f]+) \\w {name}$", RegexOptions.Multiline).Groups[1].Value, 16);
        var (start, end) = (Label("__noinstr_text_start"), Label("__noinstr_text_end"));
        var function = Vmlinux.Code.Functions.First(f => f.Address >= start && f.End <= end && f.Size > 16 && IsUniqueFunction(f.Name)
                                                          && !CloneNames.IsClone(f.Name) && UnsafeFunctions.Reason(f.Name) is null);
        var lines = kernel.Objdump(function.Address, function.End);
        output.WriteLine($"{function.Name} ({function.Section}):\n{string.Join('\n', lines.Take(6))}");
        lines.ShouldNotBeEmpty();
        lines.ShouldNotContain(l => l.Contains("__fentry__"));

        var report = kernel.Analyze(new PatchedFunctionRequest(function.Name));
        output.WriteLine(report.ToText());
        report.Findings.ShouldContain(f => f.Code == SafetyCodes.NotPatchableFtrace && f.Severity == SafetySeverity.Error);

        // And a traced function is patchable: objdump shows its fentry call, the analysis is silent.
        var traced = Vmlinux.Code.Named("cmdline_proc_show").Single();
        kernel.Objdump(traced.Address, traced.End)[0].ShouldContain("__fentry__");
        kernel.Analyze(new PatchedFunctionRequest("cmdline_proc_show")).Findings.ShouldNotContain(f => f.Code == SafetyCodes.NotPatchableFtrace);
    }

    [Fact]
    public void FunctionsFoldedToOneAddressAreReported()
    {
        var (first, second) = Vmlinux.Code.Functions
            .GroupBy(f => f.Address)
            .Select(g => g.DistinctBy(f => f.Name).ToList())
            .Where(g => g.Count >= 2 && g.All(f => IsUniqueFunction(f.Name) && !CloneNames.IsClone(f.Name) && UnsafeFunctions.Reason(f.Name) is null))
            .Select(g => (g[0], g[1]))
            .First();
        output.WriteLine($"{first.Name} and {second.Name} at 0x{first.Address:x}");
        var nm = Klp.Build.Processes.ProcessRunner.Run("nm", [kernel.Vmlinux]).StandardOutput;
        Regex.IsMatch(nm, $"^{first.Address:x16} [tT] {Regex.Escape(second.Name)}$", RegexOptions.Multiline).ShouldBeTrue();

        var report = kernel.Analyze(new PatchedFunctionRequest(first.Name));
        output.WriteLine(report.ToText());
        var finding = report.Findings.Single(f => f.Code == SafetyCodes.IdenticalCodeFolding);
        finding.Details!["aliases"].ShouldContain(second.Name);
    }

    [Fact]
    public void ReportRoundTripsThroughJson()
    {
        var report = kernel.Analyze(new PatchedFunctionRequest("type_show"), new PatchedFunctionRequest("schedule"),
            new PatchedFunctionRequest("cmdline_proc_show", ReplacementName: "livepatch_cmdline_proc_show"));
        var json = report.ToJson();
        output.WriteLine(json);
        var back = SafetyReport.FromJson(json)!;
        back.ToJson().ShouldBe(json);
        back.Release.ShouldBe(report.Release);
        back.Functions.Count.ShouldBe(3);
        back.Findings.Select(f => f.Code).ShouldBe(report.Findings.Select(f => f.Code));
        json.ShouldContain("\"severity\": \"Error\"");
        back.ToText().ShouldBe(report.ToText());
    }
}
