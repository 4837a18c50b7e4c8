using Klp.Build.Diagnostics;
using Klp.Build.Vm;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>
/// Boots the target kernel in QEMU and proves the module: checks unpatched, patched, and disabled again. PerObject
/// (<see cref="PatchManifest"/> and <see cref="ApplyCommand"/>): the manifest's modules, applied and reverted as a unit
/// by the package's apply command.
/// </summary>
public sealed class RunLivepatchVmTest : KernelTargetTask
{
    public string PatchModule { get; set; } = "";
    /// <summary>PerObject: the build's &lt;ModuleName&gt;.manifest.json (its modules are next to it).</summary>
    public string PatchManifest { get; set; } = "";
    /// <summary>PerObject: tools/klp-apply, run in the guest to apply and revert the manifest's modules.</summary>
    public string ApplyCommand { get; set; } = "";
    [Required] public string WorkDirectory { get; set; } = "";
    public string[] PatchedObjects { get; set; } = [];
    public ITaskItem[] Checks { get; set; } = [];
    public ITaskItem[] CheckScripts { get; set; } = [];
    public string[] SetupCommands { get; set; } = [];
    public int TimeoutSeconds { get; set; } = 300;
    public string Accelerator { get; set; } = "auto";
    public int MemoryMiB { get; set; } = 512;
    public bool LoadPatchFirst { get; set; }

    protected override string? StepName => "VM test";

    protected override void Run(DiagnosticBag diagnostics)
    {
        if (Checks.Length == 0 && CheckScripts.Length == 0)
            diagnostics.Warning("KLP5012", "the project declares no VmCheck or VmCheckScript: the VM proves only that the patch loads, enables and disables. Add a <VmCheck Include=\"...\" Command=\"...\" ExpectedPatched=\"...\" />.", ProjectFile);
        if (PatchManifest.Length > 0 && !File.Exists(PatchManifest))
        {
            diagnostics.Error("KLP5010", $"the patch manifest {PatchManifest} does not exist; build the project (dotnet build) before proving it", ProjectFile);
            return;
        }
        var patchSet = PatchManifest.Length > 0 ? VmPatchSet.FromManifest(PatchManifest, ApplyCommand) : null;
        var options = new VmProofOptions(Checks.Select(ToCheck).ToList(), WorkDirectory, PatchedObjects,
            CheckScripts.Select(s => s.GetMetadata("FullPath")).ToList(), SetupCommands, TimeoutSeconds, Accelerator, MemoryMiB, LoadPatchFirst, patchSet);
        var files = TargetFiles();
        StepLine.LogFiles(Log, "input", patchSet is null ? [PatchModule] : [.. patchSet.Modules.Select(m => m.File)]);
        var result = TargetVmProof.Run(files, PatchModule, options, diagnostics, ProjectFile,
            message => Log.LogMessage(MessageImportance.Low, message), message => Log.LogMessage(MessageImportance.Low, message), CancellationToken);
        if (result is null) return;
        Log.LogMessage(MessageImportance.High, result.Transcript);
        var proven = patchSet is null ? Path.GetFileName(PatchModule) : string.Join(", ", patchSet.Modules.Select(m => Path.GetFileName(m.File)));
        StepDetail = result.Passed ? $"{proven} proven live" : $"failed, console log {result.ConsoleLog}";
        if (!result.Passed)
            Log.LogMessage(MessageImportance.High, $"Guest console log: {result.ConsoleLog}");
    }

    private static VmCheck ToCheck(ITaskItem item)
    {
        var command = item.GetMetadata("Command");
        string? Optional(string name) => item.GetMetadata(name) is { Length: > 0 } value ? value : null;
        return new VmCheck(command.Length > 0 ? command : item.ItemSpec, Optional("ExpectedPatched"), Optional("ExpectedUnpatched"));
    }
}
