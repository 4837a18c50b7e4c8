using Klp.Build.Diagnostics;

namespace Klp.Build.Vm;

/// <summary>Boots the target kernel in QEMU and proves a livepatch there (see <see cref="LivepatchVmTest"/>).</summary>
public static class LivepatchVmRunner
{
    public const string ConsoleLogName = "console.log";
    public const string ResultsLogName = "results.log";

    public static VmTestResult Run(LivepatchVmTest test, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= _ => { };
        var diagnostics = new DiagnosticBag();
        var qemu = Qemu.Find(diagnostics);
        var busybox = BusyboxLocator.Find(diagnostics, test.Busybox);
        foreach (var (file, what) in new[] { (test.KernelImage, "kernel image"), (test.PatchModule, test.PatchSet is null ? "patch module" : "patch manifest") }
                     .Concat((test.PatchSet?.Modules ?? []).Select(m => (m.File, "patch module")))
                     .Concat(test.PatchSet is { } set ? [(set.ApplyCommand, "apply command")] : [])
                     .Concat(test.PrerequisiteModules.Select(m => (m, "prerequisite module")))
                     .Concat(test.CheckScripts.Select(s => (s, "check script"))))
            if (!File.Exists(file))
                diagnostics.Error("KLP5010", $"the {what} {file} does not exist", file);
        if (diagnostics.HasErrors || qemu is null || busybox is null) return VmTestResult.Failed(test, diagnostics.Items);

        Directory.CreateDirectory(test.WorkDirectory);
        var initramfs = InitramfsBuilder.Build(test, busybox, test.WorkDirectory);
        log($"initramfs {initramfs.Path}: {initramfs.Entries.Count} entries");

        var accelerator = Qemu.ResolveAccelerator(test.Accelerator, qemu, test.KernelImage, busybox, test.WorkDirectory, log);
        var consoleLog = Path.Combine(test.WorkDirectory, ConsoleLogName);
        var resultsLog = Path.Combine(test.WorkDirectory, ResultsLogName);
        File.Delete(consoleLog);
        File.Delete(resultsLog);
        var arguments = Qemu.Arguments(test.KernelImage, initramfs.Path, accelerator, test.MemoryMiB, consoleLog, resultsLog, test.KernelArguments);
        log($"booting {test.KernelImage} ({accelerator}): {qemu} {string.Join(' ', arguments)}");
        var run = Qemu.Run(qemu, arguments, test.Timeout, cancellationToken);
        log($"VM finished in {run.Duration.TotalSeconds:F1} s (exit {run.ExitCode}{(run.TimedOut ? ", timed out" : "")})");

        var consoleText = File.Exists(consoleLog) ? File.ReadAllText(consoleLog) : "";
        var report = GuestReport.Parse(File.Exists(resultsLog) ? File.ReadAllText(resultsLog) : "");
        var evaluation = LivepatchVmEvaluator.Evaluate(test, report, run, consoleText, consoleLog);
        var passed = !evaluation.Diagnostics.Any(d => d.IsError);
        return new VmTestResult(passed, test.PatchName, test.KernelImage, accelerator, run.Duration,
            evaluation.Checks, evaluation.Diagnostics, evaluation.KernelFindings, consoleLog, resultsLog, report.Dmesg?.Output);
    }

    /// <summary>Boots the target kernel with a <see cref="GuestSession"/>'s files and runs its steps.</summary>
    public static GuestSessionResult RunSession(GuestSession session, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= _ => { };
        var diagnostics = new DiagnosticBag();
        var qemu = Qemu.Find(diagnostics);
        var busybox = BusyboxLocator.Find(diagnostics, session.Busybox);
        if (!File.Exists(session.KernelImage))
            diagnostics.Error("KLP5010", $"the kernel image {session.KernelImage} does not exist", session.KernelImage);
        if (diagnostics.HasErrors || qemu is null || busybox is null)
            throw new DiagnosticException(diagnostics.Items.First(d => d.IsError));

        Directory.CreateDirectory(session.WorkDirectory);
        var initrd = InitramfsBuilder.BuildSession(session, busybox, session.WorkDirectory);
        var accelerator = Qemu.ResolveAccelerator(session.Accelerator, qemu, session.KernelImage, busybox, session.WorkDirectory, log);
        var consoleLog = Path.Combine(session.WorkDirectory, ConsoleLogName);
        var resultsLog = Path.Combine(session.WorkDirectory, ResultsLogName);
        File.Delete(consoleLog);
        File.Delete(resultsLog);
        var arguments = Qemu.Arguments(session.KernelImage, initrd, accelerator, session.MemoryMiB, consoleLog, resultsLog);
        log($"booting {session.KernelImage} ({accelerator}): {qemu} {string.Join(' ', arguments)}");
        var run = Qemu.Run(qemu, arguments, session.Timeout, cancellationToken);
        log($"VM finished in {run.Duration.TotalSeconds:F1} s (exit {run.ExitCode}{(run.TimedOut ? ", timed out" : "")})");

        var consoleText = File.Exists(consoleLog) ? File.ReadAllText(consoleLog) : "";
        var report = GuestReport.Parse(File.Exists(resultsLog) ? File.ReadAllText(resultsLog) : "");
        var dmesg = report.Dmesg?.Output ?? "";
        return new GuestSessionResult(report.Ended,
            Enumerable.Range(0, session.Steps.Count).Select(i => report.Steps.GetValueOrDefault(i)).ToList(),
            dmesg, KernelLogScanner.Scan((consoleText, consoleLog), (dmesg, "dmesg")), consoleLog, run.Duration);
    }
}
