using Klp.Build.Diagnostics;

namespace Klp.Build.Vm;

/// <summary>One check's outputs per phase (phases the guest did not reach are absent).</summary>
public sealed record VmCheckResult(
    string Id,
    string Description,
    bool IsScript,
    IReadOnlyDictionary<VmPhase, GuestOutput> Outputs,
    bool Passed);

/// <summary>The proof: did the patch load, change what the checks see, and leave the kernel as before once disabled?</summary>
public sealed record VmTestResult(
    bool Passed,
    string PatchName,
    string KernelImage,
    string Accelerator,
    TimeSpan Duration,
    IReadOnlyList<VmCheckResult> Checks,
    IReadOnlyList<Diagnostic> Diagnostics,
    IReadOnlyList<KernelLogFinding> KernelFindings,
    string? ConsoleLog,
    string? ResultsLog,
    string? GuestDmesg)
{
    /// <summary>The human-readable proof: each check's unpatched/patched/disabled output and the verdict.</summary>
    public string Transcript => VmTranscript.Format(this);

    public static VmTestResult Failed(LivepatchVmTest test, IEnumerable<Diagnostic> diagnostics) =>
        new(false, test.PatchName, test.KernelImage, "", TimeSpan.Zero, [], [.. diagnostics], [], null, null, null);
}
