using Klp.Build.Diagnostics;
using Klp.Build.Packaging;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>Writes &lt;ModuleName&gt;.manifest.json and the modprobe.d softdeps (&lt;ModuleName&gt;.conf) next to the published modules.</summary>
public sealed class WritePatchManifest : KlpTask
{
    [Required] public string ModuleName { get; set; } = "";
    [Required] public string KernelRelease { get; set; } = "";
    [Required] public string Packaging { get; set; } = "";
    [Required] public string OutputDirectory { get; set; } = "";
    /// <summary>Published modules: Identity the .ko; Object, LoadOrder, Functions (comma-separated).</summary>
    public ITaskItem[] Modules { get; set; } = [];

    [Output] public string ManifestFile { get; private set; } = "";
    [Output] public string ModprobeFile { get; private set; } = "";

    protected override void Run(DiagnosticBag diagnostics)
    {
        var manifest = new PatchManifest(ModuleName, KernelRelease, Packaging, Modules.Select(m => new ManifestModule(
            Path.GetFileNameWithoutExtension(m.ItemSpec), Path.GetFileName(m.ItemSpec), m.GetMetadata("Object"),
            int.Parse(m.GetMetadata("LoadOrder"), System.Globalization.CultureInfo.InvariantCulture),
            PatchManifest.Sha256Of(m.ItemSpec),
            m.GetMetadata("Functions").Split(',', StringSplitOptions.RemoveEmptyEntries))).ToList());
        ManifestFile = Path.Combine(OutputDirectory, ModuleName + ".manifest.json");
        ModprobeFile = Path.Combine(OutputDirectory, ModuleName + ".conf");
        AtomicFile.WriteIfChanged(ManifestFile, manifest.ToJson());
        AtomicFile.WriteIfChanged(ModprobeFile, manifest.ModprobeConf());
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
