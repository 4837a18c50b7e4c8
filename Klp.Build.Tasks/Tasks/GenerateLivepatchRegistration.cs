using Klp.Build.Diagnostics;
using Klp.Build.Registration;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>Writes the registration C (klp_patch and friends) from PatchedFunction and LivepatchCallback items.</summary>
public sealed class GenerateLivepatchRegistration : KlpTask
{
    [Required] public string ModuleName { get; set; } = "";
    [Required] public string OutputFile { get; set; } = "";
    public ITaskItem[] PatchedFunctions { get; set; } = [];
    public ITaskItem[] Callbacks { get; set; } = [];
    public bool AtomicReplace { get; set; } = true;
    public string? Description { get; set; }

    /// <summary>LivepatchPackaging: Combined (one module, OutputFile) or PerObject (one registration and module per object).</summary>
    public string? Packaging { get; set; }

    /// <summary>PerObject: one item per patch module (Object, LoadOrder, RegistrationFile, Functions).</summary>
    [Output] public ITaskItem[] PatchModules { get; private set; } = [];

    protected override void Run(DiagnosticBag diagnostics)
    {
        var functions = PatchedFunctions.Select(item => new PatchedFunction(
            item.ItemSpec.Trim(),
            item.GetMetadata("Replacement").Trim(),
            ObjectOf(item),
            ParsePosition(item, diagnostics))).ToList();
        var callbacks = new List<LivepatchCallback>();
        foreach (var item in Callbacks)
        {
            if (LivepatchDefinitionValidator.TryParseKind(item.GetMetadata("Kind"), out var kind))
                callbacks.Add(new LivepatchCallback(item.ItemSpec.Trim(), kind, ObjectOf(item)));
            else
                diagnostics.Error("KLP2010", $"LivepatchCallback '{item.ItemSpec}' has Kind '{item.GetMetadata("Kind")}': use PrePatch, PostPatch, PreUnpatch or PostUnpatch.", ProjectFile);
        }

        var definition = new LivepatchDefinition(ModuleName, functions, callbacks, AtomicReplace, Description);
        LivepatchDefinitionValidator.Validate(definition, ProjectFile, diagnostics);
        if (diagnostics.HasErrors) return;
        if (!string.Equals(Packaging, "PerObject", StringComparison.OrdinalIgnoreCase))
        {
            AtomicFile.WriteIfChanged(OutputFile, RegistrationWriter.Write(definition));
            return;
        }
        var modules = new List<ITaskItem>();
        foreach (var module in Klp.Build.Packaging.PerObjectSplit.Split(definition))
        {
            var file = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(OutputFile))!, $"klp-registration-{module.Object}.c");
            AtomicFile.WriteIfChanged(file, RegistrationWriter.Write(module.Definition));
            var item = new Microsoft.Build.Utilities.TaskItem(module.ModuleName);
            item.SetMetadata("Object", module.Object);
            item.SetMetadata("LoadOrder", module.LoadOrder.ToString(System.Globalization.CultureInfo.InvariantCulture));
            item.SetMetadata("RegistrationFile", file);
            item.SetMetadata("Functions", string.Join(",", module.Definition.Functions.Select(f => f.Name)));
            modules.Add(item);
        }
        PatchModules = modules.ToArray();
    }

    private static string ObjectOf(ITaskItem item)
    {
        var name = item.GetMetadata("Object");
        return string.IsNullOrWhiteSpace(name) ? PatchedFunction.Vmlinux : LivepatchDefinitionValidator.NormalizeObjectName(name);
    }

    private int ParsePosition(ITaskItem item, DiagnosticBag diagnostics)
    {
        var text = item.GetMetadata("Position");
        if (string.IsNullOrWhiteSpace(text)) return 0;
        if (int.TryParse(text, out var position)) return position;
        diagnostics.Error("KLP2013", $"PatchedFunction '{item.ItemSpec}' has Position '{text}': it must be a whole number (0 for a unique name, N for the N-th occurrence).", ProjectFile);
        return 0;
    }
}
