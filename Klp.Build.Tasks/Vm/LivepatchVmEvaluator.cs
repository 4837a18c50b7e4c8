using Klp.Build.Diagnostics;

namespace Klp.Build.Vm;

/// <summary>Judges what the guest reported (and what the kernel logged) against the test's expectations.</summary>
public static class LivepatchVmEvaluator
{
    private const int ConsoleTailLines = 15;
    private const int MaxRelevantLines = 30;

    public sealed record Evaluation(IReadOnlyList<VmCheckResult> Checks, IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<KernelLogFinding> KernelFindings);

    /// <param name="qemu">The QEMU run, or null when evaluating captured logs alone.</param>
    /// <param name="consoleText">The console (ttyS0) log.</param>
    /// <param name="consoleLogPath">Where the console log is, for messages.</param>
    public static Evaluation Evaluate(LivepatchVmTest test, GuestReport report, QemuRun? qemu, string consoleText, string consoleLogPath)
    {
        var diagnostics = new DiagnosticBag();
        var dmesg = report.Dmesg?.Output ?? "";

        // The VM as a whole.
        if (qemu is { TimedOut: true })
            diagnostics.Error("KLP5005",
                $"the VM proving {test.PatchName} ({test.PatchModule}) did not finish within {test.Timeout.TotalSeconds:F0} s " +
                $"(last guest event: {report.LastEvent}); console log {consoleLogPath} ends with:\n{Tail(consoleText)}",
                test.PatchModule);
        else if (!report.Ended)
            diagnostics.Error("KLP5005",
                $"the VM proving {test.PatchName} ({test.PatchModule}) stopped before the test finished " +
                $"(qemu exit code {qemu?.ExitCode.ToString() ?? "?"}, last guest event: {report.LastEvent})" +
                (string.IsNullOrWhiteSpace(qemu?.StandardError) ? "" : $"; qemu said: {qemu!.StandardError.Trim()}") +
                $"; console log {consoleLogPath} ends with:\n{Tail(consoleText)}",
                test.PatchModule);

        // Setup and modules.
        foreach (var (index, output) in report.Setup)
            if (output.ExitCode != 0)
                diagnostics.Error("KLP5008",
                    $"setup command {index + 1} `{test.SetupCommands.ElementAtOrDefault(index)}` failed in the VM (exit {output.ExitCode}): {output.Output.Trim()}",
                    test.PatchModule);
        foreach (var (index, output) in report.Prerequisites)
            if (output.ExitCode != 0)
            {
                var module = test.PrerequisiteModules.ElementAtOrDefault(index) ?? $"#{index}";
                diagnostics.Error("KLP5009",
                    $"prerequisite module {module} failed to load in the VM: {output.Output.Trim()}{Relevant(dmesg, test, module)}",
                    module);
            }
        if (test.PatchSet is { } set)
            EvaluateSet(test, set, report, dmesg, diagnostics);
        else if (report.Insmod is { ExitCode: not 0 } insmod)
            diagnostics.Error("KLP5006",
                $"the patch module {test.PatchModule} failed to load: {insmod.Output.Trim()}{Relevant(dmesg, test, test.PatchModule)}",
                test.PatchModule);
        else if (report.Registered == false)
            diagnostics.Error("KLP5006",
                $"the patch module {test.PatchModule} loaded but registered no livepatch /sys/kernel/livepatch/{test.PatchName} " +
                $"(is it a livepatch module with MODULE_INFO(livepatch, \"Y\") whose init calls klp_enable_patch, and is its name {test.PatchName}?)" +
                Relevant(dmesg, test, test.PatchModule),
                test.PatchModule);
        if (test.PatchSet is null)
            EvaluateTransitions(test, report, dmesg, diagnostics);

        // Checks.
        var checks = new List<VmCheckResult>();
        for (var i = 0; i < test.Checks.Count; i++)
            checks.Add(EvaluateCommand(test, i, report, diagnostics));
        for (var i = 0; i < test.CheckScripts.Count; i++)
            checks.Add(EvaluateScript(test, i, report, diagnostics));

        // Kernel splats.
        var findings = KernelLogScanner.Scan((consoleText, consoleLogPath), (dmesg, "guest dmesg"));
        foreach (var finding in findings)
            diagnostics.Error("KLP5004",
                $"the kernel reported \"{finding.Trigger}\" while proving {test.PatchName} ({test.PatchModule}), " +
                $"at {finding.Source} line {finding.LineNumber}:\n{finding.Excerpt}",
                test.PatchModule);

        return new Evaluation(checks, diagnostics.Items, findings);
    }

    private static void EvaluateTransitions(LivepatchVmTest test, GuestReport report, string dmesg, DiagnosticBag diagnostics)
    {
        foreach (var (phase, completed) in report.TransitionCompleted)
            if (!completed)
                diagnostics.Error("KLP5007",
                    $"the livepatch {test.PatchName} ({test.PatchModule}) did not finish its transition to \"{phase.Name()}\" within " +
                    $"{test.TransitionTimeout.TotalSeconds:F0} s (/sys/kernel/livepatch/{test.PatchName}/transition stayed 1)" +
                    Relevant(dmesg, test, test.PatchModule),
                    test.PatchModule);
        if (report.Disable is { ExitCode: not 0 } disable)
            diagnostics.Error("KLP5007",
                $"could not disable the livepatch {test.PatchName} ({test.PatchModule}): {disable.Output.Trim()}", test.PatchModule);
    }

    /// <summary>A PerObject set applied and reverted by the package's apply command, whose output says what went wrong.</summary>
    private static void EvaluateSet(LivepatchVmTest test, VmPatchSet set, GuestReport report, string dmesg, DiagnosticBag diagnostics)
    {
        var names = string.Join(", ", set.Modules.Select(m => m.Name));
        if (report.Insmod is { ExitCode: not 0 } apply)
            diagnostics.Error("KLP5006",
                $"tools/klp-apply could not apply the patch {set.Patch} ({names}) from {set.Manifest}: {apply.Output.Trim()}{Relevant(dmesg, test, set.Manifest)}",
                set.Manifest);
        else if (report.Registered == false)
            diagnostics.Error("KLP5006",
                $"tools/klp-apply applied {set.Patch} from {set.Manifest}, but not every module registered its livepatch under /sys/kernel/livepatch ({names})" +
                Relevant(dmesg, test, set.Manifest),
                set.Manifest);
        foreach (var (phase, completed) in report.TransitionCompleted)
            if (!completed)
                diagnostics.Error("KLP5007",
                    $"the livepatches of {set.Patch} ({names}) did not all finish their transition to \"{phase.Name()}\" within {test.TransitionTimeout.TotalSeconds:F0} s" +
                    Relevant(dmesg, test, set.Manifest),
                    set.Manifest);
        if (report.Disable is { ExitCode: not 0 } revert)
            diagnostics.Error("KLP5007", $"tools/klp-apply could not revert the patch {set.Patch} ({names}): {revert.Output.Trim()}", set.Manifest);
        else if (report.Registered == true && report.Rmmod is { ExitCode: not 0 } left)
            diagnostics.Error("KLP5007", $"tools/klp-apply reverted {set.Patch}, but modules stayed loaded ({left.Output.Trim()}): revert must disable and unload every module", set.Manifest);
    }

    private static VmCheckResult EvaluateCommand(LivepatchVmTest test, int index, GuestReport report, DiagnosticBag diagnostics)
    {
        var check = test.Checks[index];
        var description = $"check {index + 1} `{check.Command}`";
        var outputs = Outputs(report, $"c{index}");
        var failures = 0;
        void Fail(VmPhase phase, string expected, string actual)
        {
            failures++;
            diagnostics.Error("KLP5003",
                $"{description} of livepatch {test.PatchName} ({test.PatchModule}), phase {phase.Name()}: expected {expected}, actual output: \"{actual}\"",
                test.PatchModule);
        }

        outputs.TryGetValue(VmPhase.Unpatched, out var unpatched);
        if (unpatched is not null && check.ExpectUnpatched is { } expectUnpatched && !unpatched.Output.Trim().Contains(expectUnpatched.Trim(), StringComparison.Ordinal))
            Fail(VmPhase.Unpatched, $"output containing \"{expectUnpatched.Trim()}\"", unpatched.Output.Trim());
        if (outputs.TryGetValue(VmPhase.Patched, out var patched))
        {
            if (check.ExpectPatched is { } expectPatched)
            {
                if (!patched.Output.Trim().Contains(expectPatched.Trim(), StringComparison.Ordinal))
                    Fail(VmPhase.Patched, $"output containing \"{expectPatched.Trim()}\"", patched.Output.Trim());
            }
            else if (unpatched is not null && patched.Output.Trim() == unpatched.Output.Trim())
                Fail(VmPhase.Patched, $"output different from the unpatched output \"{unpatched.Output.Trim()}\"", patched.Output.Trim());
        }
        if (outputs.TryGetValue(VmPhase.Disabled, out var disabled))
        {
            if (unpatched is not null && disabled.Output != unpatched.Output)
                Fail(VmPhase.Disabled, $"exactly the unpatched output \"{unpatched.Output.Trim()}\"", disabled.Output.Trim());
            else if (unpatched is null && check.ExpectUnpatched is { } original && !disabled.Output.Trim().Contains(original.Trim(), StringComparison.Ordinal))
                Fail(VmPhase.Disabled, $"output containing \"{original.Trim()}\"", disabled.Output.Trim());
        }
        return new VmCheckResult($"c{index}", description, false, outputs, failures == 0);
    }

    private static VmCheckResult EvaluateScript(LivepatchVmTest test, int index, GuestReport report, DiagnosticBag diagnostics)
    {
        var script = test.CheckScripts[index];
        var description = $"check script {script}";
        var outputs = Outputs(report, $"s{index}");
        var failures = 0;
        foreach (var (phase, output) in outputs.OrderBy(p => p.Key))
            if (output.ExitCode != 0)
            {
                failures++;
                diagnostics.Error("KLP5003",
                    $"{description} of livepatch {test.PatchName} ({test.PatchModule}) failed in phase {phase.Name()} (exit {output.ExitCode}); output: \"{output.Output.Trim()}\"",
                    script);
            }
        return new VmCheckResult($"s{index}", description, true, outputs, failures == 0);
    }

    private static Dictionary<VmPhase, GuestOutput> Outputs(GuestReport report, string id)
    {
        var outputs = new Dictionary<VmPhase, GuestOutput>();
        foreach (var phase in VmPhases.All)
            if (report.Checks.TryGetValue((phase, id), out var output)) outputs[phase] = output;
        return outputs;
    }

    /// <summary>The dmesg lines about modules and livepatching, as "; dmesg:\n…" (empty when none).</summary>
    internal static string Relevant(string dmesg, LivepatchVmTest test, string module)
    {
        var names = new[] { test.PatchName, ModuleFiles.ModuleName(module) }.Concat(test.PatchNames)
            .Concat(test.PrerequisiteModules.Select(ModuleFiles.ModuleName)).Distinct().ToArray();
        string[] keywords = ["livepatch", "Unknown symbol", "disagrees about version", "module verification", "Invalid", "klp", "insmod"];
        var lines = dmesg.Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(line => names.Any(n => line.Contains(n, StringComparison.Ordinal)) || keywords.Any(k => line.Contains(k, StringComparison.Ordinal)))
            .TakeLast(MaxRelevantLines).ToList();
        return lines.Count == 0 ? "" : "; dmesg:\n" + string.Join('\n', lines);
    }

    private static string Tail(string text) =>
        string.Join('\n', text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).TakeLast(ConsoleTailLines));
}
