using Klp.Build.Diagnostics;
using Klp.Build.Kernels;
using Klp.Build.Vm;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>Boots the target kernel in QEMU and proves the module: checks unpatched, patched, and disabled again.</summary>
public sealed class RunLivepatchVmTest : KernelTargetTask
{

    [Required] public string PatchModule { get; set; } = "";
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
        var architecture = Kernels.KernelArchitecture.All.Single(a => a.Debian == KernelArchitecture);
        if (architecture != Kernels.KernelArchitecture.Amd64)
        {
            diagnostics.Error("KLP5011", $"the VM proof boots x86_64 kernels only; {KernelRelease} is {architecture.Debian}. Prove it on that architecture's hardware.", ProjectFile);
            return;
        }
        if (Checks.Length == 0 && CheckScripts.Length == 0)
            diagnostics.Warning("KLP5012", "the project declares no VmCheck or VmCheckScript: the VM proves only that the patch loads, enables and disables. Add a <VmCheck Include=\"...\" Command=\"...\" ExpectedPatched=\"...\" />.", ProjectFile);

        var files = TargetFiles();
        var image = KernelImageLocator.Locate(files.Target, files.Provider, KernelImage, KernelModulesDirectory, CancellationToken);

        var modules = new KernelModuleIndex(image.ModulesDirectory);
        var prerequisites = PatchedObjects.Where(o => o.Length > 0 && o != "vmlinux").Distinct()
            .SelectMany(modules.LoadOrder).Distinct().ToList();

        var test = new LivepatchVmTest(
            image.Vmlinuz, PatchModule, ModuleFiles.ModuleName(PatchModule), prerequisites, SetupCommands,
            Checks.Select(ToCheck).ToList(), CheckScripts.Select(s => s.GetMetadata("FullPath")).ToList(),
            WorkDirectory, TimeSpan.FromSeconds(TimeoutSeconds), Accelerator, MemoryMiB) { LoadPatchFirst = LoadPatchFirst };
        Log.LogMessage(MessageImportance.Low, $"Booting {KernelRelease} in QEMU to prove {Path.GetFileName(PatchModule)}...");
        StepLine.LogFiles(Log, "input", [image.Vmlinuz, PatchModule]);
        var result = LivepatchVmRunner.Run(test, message => Log.LogMessage(MessageImportance.Low, message), CancellationToken);

        Log.LogMessage(MessageImportance.High, result.Transcript);
        diagnostics.AddRange(result.Diagnostics);
        StepDetail = result.Passed ? $"{Path.GetFileName(PatchModule)} proven live" : $"failed, console log {result.ConsoleLog}";
        if (!result.Passed && !diagnostics.HasErrors)
            diagnostics.Error("KLP5003", $"the VM proof failed; the guest console log is {result.ConsoleLog}.", ProjectFile);
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
