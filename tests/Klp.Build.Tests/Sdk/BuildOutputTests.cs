using System.Text.RegularExpressions;
using Klp.Build.Processes;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Sdk;

/// <summary>
/// What `dotnet build` prints: nothing but the summary at minimal verbosity (the default), one line per pipeline
/// step with its time at normal verbosity, and each step's inputs and outputs in the binary log.
/// </summary>
[Collection(SdkCollection.Name)]
public sealed class BuildOutputTests
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");

    /// <summary>What any `dotnet build -v:m` prints, for an empty project too: restore's two lines and the summary.</summary>
    private static readonly Regex SummaryLine = new(
        @"^\s*(Determining projects to restore\.\.\.|All projects are up-to-date for restore\.|Restored .*\(in .*\)\.?|\S+ -> \S.*|Build succeeded\.|\d+ Warning\(s\)|\d+ Error\(s\)|Time Elapsed .*)$");

    [Fact]
    public void At_minimal_verbosity_a_build_prints_only_the_summary_and_a_no_op_build_nothing_else()
    {
        using var project = TestProject.FromSample("cmdline", Release);

        var first = project.Build("-v:m");
        first.Succeeded.ShouldBeTrue(first.ToString());
        OtherLines(first).ShouldBeEmpty(first.Output);
        first.Output.ShouldContain($"cmdline -> {Path.Combine(project.OutputDirectory(Release), "cmdline.ko")}");

        var noop = project.Build("-v:m");
        noop.Succeeded.ShouldBeTrue(noop.ToString());
        OtherLines(noop).ShouldBeEmpty(noop.Output);
        noop.Output.ShouldNotContain(" -> ", Case.Sensitive, "nothing was published again");
    }

    [Fact]
    public void At_normal_verbosity_each_step_prints_one_line_with_its_time_and_the_binary_log_has_inputs_and_outputs()
    {
        using var project = TestProject.FromSample("cmdline-saved", Release);
        var binlog = Path.Combine(project.Directory, "build.binlog");

        var build = project.Build("-v:n", $"-bl:{binlog}");

        build.Succeeded.ShouldBeTrue(build.ToString());
        var steps = build.Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("klp: ", StringComparison.Ordinal)).ToList();
        foreach (var step in new[] { "kernel", "compile", "convert", "symbol map", "analysis" })
            steps.Where(l => l.StartsWith($"klp: {step} {Release}", StringComparison.Ordinal)).ShouldHaveSingleItem(build.Output)
                .ShouldMatch(@" \d+\.\d s$");
        steps.ShouldContain(l => l.StartsWith($"klp: kernel {Release} (Debian ") && l.Contains("cached"));
        steps.ShouldContain(l => l.StartsWith($"klp: convert {Release} (") && l.Contains("relocation(s)"));
        build.Output.Split('\n').Count(l => l.Contains("The module is not signed")).ShouldBe(1, "the sign step without a key");

        // The binary log, replayed by MSBuild itself: targets skipped or run with their inputs, tasks' files.
        var replay = ProcessRunner.Run("dotnet", ["msbuild", binlog, "-v:diag", "-noconlog", $"-flp:v=diag;logfile={binlog}.txt"], project.Directory);
        replay.Succeeded.ShouldBeTrue(replay.StandardOutput + replay.StandardError);
        var log = File.ReadAllText(binlog + ".txt");
        var intermediate = Path.Combine(project.Directory, "obj", "Debug", Release);
        log.ShouldContain($"input: {Path.Combine(intermediate, "kbuild", "cmdline_saved.ko")}");
        log.ShouldContain($"output: {Path.Combine(intermediate, "cmdline_saved.ko")}");
        log.ShouldContain($"output: {Path.Combine(intermediate, "klp-safety.json")}");
        log.ShouldContain("symbols.klp");

        // Up to date: the steps that did nothing say nothing; the kernel is resolved again, from the cache, quickly.
        var noop = project.Build("-v:n");
        noop.Succeeded.ShouldBeTrue(noop.ToString());
        noop.Output.ShouldNotContain($"klp: compile {Release}");
        noop.Output.ShouldNotContain($"klp: analysis {Release}");
        noop.Output.ShouldMatch($@"klp: kernel {Regex.Escape(Release)} \(Debian [^)]*cached\) \d+\.\d s");
    }

    [Fact]
    public void The_VM_test_is_one_step_line_at_normal_verbosity()
    {
        using var project = TestProject.FromSample("cmdline", Release);

        var test = project.Build("-t:Test", "-v:n");

        test.Succeeded.ShouldBeTrue(test.ToString());
        test.Output.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith($"klp: VM test {Release}", StringComparison.Ordinal)).ShouldHaveSingleItem(test.Output)
            .ShouldMatch($@"^klp: VM test {Regex.Escape(Release)} \(cmdline\.ko proven live\) \d+\.\d s$");
        test.Output.ShouldNotContain("Booting ", Case.Sensitive, "QEMU's command line and boot messages are for -v:d and the binary log");
    }

    private static List<string> OtherLines(BuildResult result) =>
        result.Output.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Trim().Length > 0 && !SummaryLine.IsMatch(l)).ToList();
}
