using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Packaging;
using Klp.Build.Registration;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>Writes &lt;ModuleName&gt;.manifest.json and, for PerObject, the modprobe.d softdeps (&lt;ModuleName&gt;.conf) next to the published modules.</summary>
public sealed class WritePatchManifest : KlpTask
{
    [Required] public string ModuleName { get; set; } = "";
    [Required] public string KernelRelease { get; set; } = "";
    [Required] public string Packaging { get; set; } = "";
    [Required] public string OutputDirectory { get; set; } = "";
    /// <summary>Published modules: Identity the .ko; PerObject: Object and LoadOrder (a Combined module patches every object).</summary>
    public ITaskItem[] Modules { get; set; } = [];
    /// <summary>The project's PatchedFunction items (Object metadata, default vmlinux).</summary>
    public ITaskItem[] PatchedFunctions { get; set; } = [];

    [Output] public string ManifestFile { get; private set; } = "";
    [Output] public string ModprobeFile { get; private set; } = "";

    protected override void Run(DiagnosticBag diagnostics)
    {
        var functions = PatchedFunctions.Select(f => (Object: ObjectOf(f), Name: f.ItemSpec.Trim())).ToList();
        var allObjects = functions.Select(f => f.Object).Distinct().ToList();
        var modules = Modules.Select((m, index) =>
        {
            var objects = string.IsNullOrEmpty(m.GetMetadata("Object")) ? allObjects : [m.GetMetadata("Object")];
            var loadOrder = string.IsNullOrEmpty(m.GetMetadata("LoadOrder")) ? index + 1
                : int.Parse(m.GetMetadata("LoadOrder"), System.Globalization.CultureInfo.InvariantCulture);
            return new ManifestModule(Path.GetFileNameWithoutExtension(m.ItemSpec), Path.GetFileName(m.ItemSpec), loadOrder,
                PatchManifest.Sha256Of(m.ItemSpec),
                objects.Select(o => new ManifestObject(o, functions.Where(f => f.Object == o).Select(f => f.Name).ToList())).ToList());
        }).ToList();
        var manifest = new PatchManifest(ModuleName, KernelRelease, VermagicOf(Modules.Select(m => m.ItemSpec)), Packaging, modules);
        ManifestFile = Path.Combine(OutputDirectory, ModuleName + ".manifest.json");
        AtomicFile.WriteIfChanged(ManifestFile, manifest.ToJson());
        var modprobeFile = Path.Combine(OutputDirectory, ModuleName + ".conf");
        if (manifest.Softdeps.Count == 0)
        {
            // An earlier PerObject build's softdeps must not reach the package of this one.
            File.Delete(modprobeFile);
            return;
        }
        ModprobeFile = modprobeFile;
        AtomicFile.WriteIfChanged(ModprobeFile, manifest.ModprobeConf());
    }

    private static string ObjectOf(ITaskItem function)
    {
        var name = function.GetMetadata("Object");
        return string.IsNullOrWhiteSpace(name) ? PatchedFunction.Vmlinux : LivepatchDefinitionValidator.NormalizeObjectName(name);
    }

    /// <summary>The vermagic every module was built with (modpost writes the target's into each .modinfo).</summary>
    private static string VermagicOf(IEnumerable<string> modules)
    {
        var values = modules.Select(module =>
        {
            var elf = ElfReader.Read(module, new DiagnosticBag()) ?? throw new InvalidOperationException($"{module} is not an ELF file");
            return ElfModInfo.Read(elf)?.VerMagic ?? throw new InvalidOperationException($"{module} has no vermagic in .modinfo");
        }).Distinct().ToList();
        return values.Count == 1 ? values[0] : throw new InvalidOperationException($"the patch modules have different vermagics: {string.Join(" | ", values)}");
    }
}

/// <summary>LivepatchPackaging is Combined or PerObject; PerObject needs the generated registration.</summary>
public sealed class CheckLivepatchPackaging : KlpTask
{
    public string? Packaging { get; set; }
    public bool GenerateRegistration { get; set; } = true;

    protected override void Run(DiagnosticBag diagnostics)
    {
        if (!string.Equals(Packaging, "Combined", StringComparison.OrdinalIgnoreCase) && !string.Equals(Packaging, "PerObject", StringComparison.OrdinalIgnoreCase))
            diagnostics.Error("KLP6201", $"LivepatchPackaging is '{Packaging}': use Combined (one module for every patched object) or PerObject (one module per patched object).", ProjectFile);
        else if (string.Equals(Packaging, "PerObject", StringComparison.OrdinalIgnoreCase) && !GenerateRegistration)
            diagnostics.Error("KLP6202", "LivepatchPackaging=PerObject needs the generated registration (one klp_patch per object): remove GenerateLivepatchRegistration=false, or use LivepatchPackaging=Combined with a hand-written registration.", ProjectFile);
    }
}
