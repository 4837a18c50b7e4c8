using System.Diagnostics;
using Klp.Build.Diagnostics;
using Klp.Build.Processes;

namespace Klp.Build.Vm;

/// <summary>The outcome of one QEMU run.</summary>
public sealed record QemuRun(int ExitCode, bool TimedOut, TimeSpan Duration, string StandardError);

/// <summary>Finds and runs qemu-system-x86_64 with the guest's console and results on two serial ports (files).</summary>
public static class Qemu
{
    public const string Program = "qemu-system-x86_64";
    public const string BaseKernelArguments = "console=ttyS0 panic=-1 quiet";

    /// <summary>The qemu path, or null with KLP5001.</summary>
    public static string? Find(DiagnosticBag diagnostics)
    {
        var path = ProcessRunner.FindOnPath(Program);
        if (path is null)
            diagnostics.Error("KLP5001", $"{Program} is not installed: apt-get install qemu-system-x86");
        return path;
    }

    public static IReadOnlyList<string> Arguments(
        string kernel, string initrd, string accelerator, int memoryMiB, string consoleLog, string resultsLog, string extraKernelArguments = "")
    {
        var append = string.IsNullOrWhiteSpace(extraKernelArguments) ? BaseKernelArguments : BaseKernelArguments + " " + extraKernelArguments.Trim();
        return
        [
            "-nodefaults", "-no-user-config",
            "-accel", accelerator,
            "-cpu", accelerator == "kvm" ? "host" : "max",
            "-smp", "1",
            "-m", memoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-display", "none", "-monitor", "none",
            "-no-reboot",
            "-kernel", kernel,
            "-initrd", initrd,
            "-append", append,
            "-chardev", $"file,id=console,path={Escape(consoleLog)}",
            "-serial", "chardev:console",
            "-chardev", $"file,id=results,path={Escape(resultsLog)}",
            "-serial", "chardev:results",
        ];
    }

    /// <summary>QEMU option values escape ',' by doubling it.</summary>
    private static string Escape(string value) => value.Replace(",", ",,");

    public static QemuRun Run(string qemu, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var result = ProcessRunner.Run(qemu, arguments, timeout: timeout, cancellationToken: cancellationToken);
        var elapsed = clock.Elapsed;
        var timedOut = result.ExitCode == -1 && elapsed >= timeout;
        return new QemuRun(result.ExitCode, timedOut, elapsed, result.StandardError);
    }

    private static readonly object ProbeGate = new();
    private static bool? _kvmWorks;

    /// <summary>
    /// "tcg"/"kvm" as given; "auto" → "kvm" when /dev/kvm exists and a probe boot (poweroff right away) finishes within
    /// 15 s, else "tcg". The probe result is cached for the process.
    /// </summary>
    public static string ResolveAccelerator(string requested, string qemu, string kernel, string busybox, string workDirectory, Action<string> log)
    {
        if (requested is "tcg" or "kvm") return requested;
        if (requested != "auto") throw new ArgumentException($"unknown accelerator '{requested}' (auto, tcg or kvm)");
        if (!File.Exists("/dev/kvm")) return "tcg";
        lock (ProbeGate)
        {
            if (_kvmWorks is null)
            {
                var directory = Path.Combine(workDirectory, "kvm-probe");
                Directory.CreateDirectory(directory);
                var archive = new CpioArchive();
                InitramfsBuilder.AddUserland(archive, busybox);
                archive.AddFile("init", "#!/bin/sh\n/bin/busybox poweroff -f\n", 0b111_101_101);
                var initrd = Path.Combine(directory, InitramfsBuilder.FileName);
                archive.WriteGzip(initrd);
                var console = Path.Combine(directory, "console.log");
                var args = Arguments(kernel, initrd, "kvm", 256, console, Path.Combine(directory, "results.log"));
                var run = Run(qemu, args, TimeSpan.FromSeconds(15), CancellationToken.None);
                _kvmWorks = run.ExitCode == 0 && !run.TimedOut;
                log($"KVM probe: {(_kvmWorks.Value ? "works" : "does not work")} ({run.Duration.TotalSeconds:F1} s{(run.TimedOut ? ", timed out" : "")}); using {(_kvmWorks.Value ? "kvm" : "tcg")}");
            }
            return _kvmWorks.Value ? "kvm" : "tcg";
        }
    }
}
