namespace Klp.Build.Vm;

/// <summary>A file put into the guest's initramfs (path relative to its root, e.g. "pkg/tools/klp-apply").</summary>
public sealed record GuestFile(string GuestPath, ReadOnlyMemory<byte> Content, bool Executable = false)
{
    /// <summary>A host file (kernel modules .ko.xz/.ko.zst are decompressed, as insmod in busybox needs).</summary>
    public static GuestFile FromHost(string guestPath, string hostPath, bool executable = false) =>
        new(guestPath, ModuleFiles.ReadDecompressed(hostPath), executable);

    public static GuestFile FromText(string guestPath, string text, bool executable = false) =>
        new(guestPath, System.Text.Encoding.UTF8.GetBytes(text), executable);
}

/// <summary>
/// A scripted guest run, for proofs the fixed unpatched/patched/disabled plan of <see cref="LivepatchVmTest"/> does not
/// fit (e.g. a packed patch applied with its own apply command): the target kernel boots a busybox initramfs with
/// <paramref name="Files"/>, runs each of <paramref name="Steps"/> (shell scripts, /bin/sh) in order whatever the
/// previous ones returned, reports each one's exit code and output, then the kernel log, and powers off.
/// </summary>
public sealed record GuestSession(
    string KernelImage,
    IReadOnlyList<GuestFile> Files,
    IReadOnlyList<string> Steps,
    string WorkDirectory,
    TimeSpan Timeout,
    string Accelerator = "auto",
    int MemoryMiB = 512)
{
    public string? Busybox { get; init; }
}

/// <summary>What a <see cref="GuestSession"/> reported: every step that ran (by index), the kernel log and its findings.</summary>
public sealed record GuestSessionResult(
    bool Completed,
    IReadOnlyList<GuestOutput?> Steps,
    string Dmesg,
    IReadOnlyList<KernelLogFinding> KernelFindings,
    string ConsoleLog,
    TimeSpan Duration)
{
    public override string ToString() =>
        $"guest {(Completed ? "completed" : "did not complete")} in {Duration.TotalSeconds:F1} s (console log {ConsoleLog})\n" +
        string.Join("\n", Steps.Select((s, i) => $"step {i}: {(s is null ? "did not run" : $"exit {s.ExitCode}\n{s.Output}")}")) +
        (KernelFindings.Count > 0 ? "\nkernel log findings:\n" + string.Join("\n", KernelFindings) : "");
}
