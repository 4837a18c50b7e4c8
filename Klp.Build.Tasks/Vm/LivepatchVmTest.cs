namespace Klp.Build.Vm;

/// <summary>A shell command run in the guest in every phase, with optional expected text ("contains" on trimmed output).</summary>
public sealed record VmCheck(string Command, string? ExpectPatched = null, string? ExpectUnpatched = null);

/// <summary>
/// What to prove in the VM: the target kernel boots a busybox initramfs, loads the prerequisite modules in order,
/// runs the checks unpatched, loads the patch, waits for the transition, runs the checks patched, disables the
/// patch, runs the checks again ("disabled") and removes the patch.
/// </summary>
/// <param name="KernelImage">The target kernel's bzImage (boot/vmlinuz-&lt;release&gt;).</param>
/// <param name="PatchModule">The livepatch .ko (may be .ko.xz/.ko.zst).</param>
/// <param name="PatchName">The livepatch's sysfs name (/sys/kernel/livepatch/&lt;name&gt;): module name with '-' → '_'.</param>
/// <param name="PrerequisiteModules">Modules to insmod first, in order (e.g. the module a patch targets).</param>
/// <param name="SetupCommands">Shell commands run after the prerequisite modules load, before the first checks (e.g. mount binfmt_misc).</param>
/// <param name="Checks">Commands with expectations.</param>
/// <param name="CheckScripts">Host script files copied into the guest and run as `sh script &lt;phase&gt;`; non-zero exit fails.</param>
/// <param name="WorkDirectory">Where the initramfs and the console/results logs are written (kept for inspection).</param>
/// <param name="Timeout">Limit for the whole VM run (QEMU is killed after it).</param>
/// <param name="Accelerator">"auto" (KVM when a probe boot works, else TCG), "tcg" or "kvm".</param>
/// <param name="MemoryMiB">Guest memory.</param>
public sealed record LivepatchVmTest(
    string KernelImage,
    string PatchModule,
    string PatchName,
    IReadOnlyList<string> PrerequisiteModules,
    IReadOnlyList<string> SetupCommands,
    IReadOnlyList<VmCheck> Checks,
    IReadOnlyList<string> CheckScripts,
    string WorkDirectory,
    TimeSpan Timeout,
    string Accelerator = "auto",
    int MemoryMiB = 512)
{
    /// <summary>How long the guest waits for /sys/kernel/livepatch/&lt;name&gt;/transition to read 0 (each direction).</summary>
    public TimeSpan TransitionTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Extra kernel command line arguments (appended to "console=ttyS0 panic=-1 quiet").</summary>
    public string KernelArguments { get; init; } = "";

    /// <summary>Load the patch before the prerequisite modules (late patching); there is no unpatched phase then.</summary>
    public bool LoadPatchFirst { get; init; }

    /// <summary>
    /// PerObject: the modules applied together by the package's apply command and reverted by it, instead of
    /// <see cref="PatchModule"/> (then the manifest) loaded, disabled and removed on its own.
    /// </summary>
    public VmPatchSet? PatchSet { get; init; }

    /// <summary>The livepatch names (sysfs) the patch registers.</summary>
    public IReadOnlyList<string> PatchNames => PatchSet is { } set ? set.Modules.Select(m => m.Name).ToList() : [PatchName];

    /// <summary>busybox to use instead of the default locations.</summary>
    public string? Busybox { get; init; }

    /// <summary>A test with just the patch and checks; the patch name derives from the module file name.</summary>
    public static LivepatchVmTest Create(string kernelImage, string patchModule, string workDirectory, params VmCheck[] checks) =>
        new(kernelImage, patchModule, ModuleFiles.ModuleName(patchModule), [], [], checks, [], workDirectory, TimeSpan.FromMinutes(3));
}

public enum VmPhase { Unpatched, Patched, Disabled }

public static class VmPhases
{
    public static readonly VmPhase[] All = [VmPhase.Unpatched, VmPhase.Patched, VmPhase.Disabled];

    public static string Name(this VmPhase phase) => phase switch
    {
        VmPhase.Unpatched => "unpatched",
        VmPhase.Patched => "patched",
        _ => "disabled",
    };

    public static VmPhase? Parse(string name) => name switch
    {
        "unpatched" => VmPhase.Unpatched,
        "patched" => VmPhase.Patched,
        "disabled" => VmPhase.Disabled,
        _ => null,
    };
}
