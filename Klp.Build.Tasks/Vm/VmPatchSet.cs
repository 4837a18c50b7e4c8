using Klp.Build.Packaging;

namespace Klp.Build.Vm;

/// <summary>A patch module of a <see cref="VmPatchSet"/>: its livepatch name (sysfs) and host file.</summary>
public sealed record VmPatchSetModule(string Name, string File);

/// <summary>
/// A PerObject patch proven as a unit: the build's manifest and its modules, applied and reverted in the guest by the
/// apply command the package ships (tools/klp-apply), laid out as in the package (kernels/&lt;release&gt;/manifest.json).
/// </summary>
/// <param name="Patch">The patch's name (the manifest's "patch", the project's ModuleName).</param>
/// <param name="Modules">In load order.</param>
public sealed record VmPatchSet(string Patch, string ApplyCommand, string Manifest, string KernelRelease, IReadOnlyList<VmPatchSetModule> Modules)
{
    /// <summary>The set a manifest written by the build describes; its module files are next to it.</summary>
    public static VmPatchSet FromManifest(string manifestFile, string applyCommand)
    {
        var manifest = PatchManifest.FromJson(File.ReadAllText(manifestFile));
        var directory = Path.GetDirectoryName(Path.GetFullPath(manifestFile))!;
        var modules = manifest.Modules.OrderBy(m => m.LoadOrder)
            .Select(m => new VmPatchSetModule(m.Module, Path.Combine(directory, m.File))).ToList();
        return new VmPatchSet(manifest.Patch, applyCommand, manifestFile, manifest.KernelRelease, modules);
    }
}
