using Klp.Build.Diagnostics;
using Klp.Build.Kernels;

namespace Klp.Build.Vm;

/// <summary>
/// What to check in the VM besides loading, enabling and disabling the patch, and how to run it; with
/// <paramref name="PatchSet"/> (PerObject), the patch is that set applied by its apply command.
/// </summary>
public sealed record VmProofOptions(
    IReadOnlyList<VmCheck> Checks,
    string WorkDirectory,
    IReadOnlyList<string>? PatchedObjects = null,
    IReadOnlyList<string>? CheckScripts = null,
    IReadOnlyList<string>? SetupCommands = null,
    int TimeoutSeconds = 300,
    string Accelerator = "auto",
    int MemoryMiB = 512,
    bool LoadPatchFirst = false,
    VmPatchSet? PatchSet = null);

/// <summary>
/// Proves a livepatch module in the target's own kernel: boots its vmlinuz in QEMU with the modules the patched
/// objects need loaded first. Shared by the SDK's Test target and `klp vm-test`.
/// </summary>
public static class TargetVmProof
{
    /// <summary>The result (its transcript is the caller's to print), or null (with KLP5011) when the target cannot be booted here.</summary>
    public static VmTestResult? Run(TargetKernelFiles files, string patchModule, VmProofOptions options, DiagnosticBag diagnostics, string? projectFile,
        Action<string> progress, Action<string> detail, CancellationToken cancellationToken)
    {
        var target = files.Target;
        if (target.Architecture != KernelArchitecture.Amd64)
        {
            diagnostics.Error("KLP5011", $"the VM proof boots x86_64 kernels only; {target.Release} is {target.Architecture.Debian}. Prove it on that architecture's hardware.", projectFile);
            return null;
        }
        var image = files.Image;
        var modules = new KernelModuleIndex(image.ModulesDirectory);
        var prerequisites = (options.PatchedObjects ?? []).Where(o => o.Length > 0 && o != "vmlinux").Distinct()
            .SelectMany(modules.LoadOrder).Distinct().ToList();

        var set = options.PatchSet;
        var test = new LivepatchVmTest(
            image.Vmlinuz, set?.Manifest ?? patchModule, set?.Patch ?? ModuleFiles.ModuleName(patchModule), prerequisites, options.SetupCommands ?? [],
            options.Checks, options.CheckScripts ?? [], options.WorkDirectory, TimeSpan.FromSeconds(options.TimeoutSeconds),
            options.Accelerator, options.MemoryMiB) { LoadPatchFirst = options.LoadPatchFirst, PatchSet = set };
        var what = set is null ? Path.GetFileName(patchModule) : string.Join(", ", set.Modules.Select(m => Path.GetFileName(m.File)));
        progress($"Booting {target.Release} in QEMU to prove {what}...");
        var result = LivepatchVmRunner.Run(test, detail, cancellationToken);
        diagnostics.AddRange(result.Diagnostics);
        if (!result.Passed && !diagnostics.HasErrors)
            diagnostics.Error("KLP5003", $"the VM proof failed; the guest console log is {result.ConsoleLog}.", projectFile);
        return result;
    }
}
