using Klp.Build.Conversion;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Kernels;
using Klp.Build.Symbols;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>
/// klp-convert as a build step: references to non-exported kernel symbols become livepatch relocations resolved
/// against the target's symbol map (generated once per kernel release and cached).
/// </summary>
public sealed class ConvertLivepatchRelocations : KernelTargetTask
{
    [Required] public string InputModule { get; set; } = "";
    [Required] public string OutputModule { get; set; } = "";
    public ITaskItem[] KernelSymbols { get; set; } = [];

    [Output] public string SymbolMapFile { get; private set; } = "";

    protected override string? StepName => "convert";

    protected override void Run(DiagnosticBag diagnostics)
    {
        StepLine.LogFiles(Log, "input", [InputModule]);
        var module = ElfReader.Read(InputModule, diagnostics);
        var exports = ExportedSymbols.ReadSymvers(Path.Combine(KernelBuildDirectory, "Module.symvers"), diagnostics);
        if (module is null || exports is null) return;

        var unresolved = ConversionNeed.SymbolsToResolve(module, exports);
        if (unresolved.Count == 0)
        {
            StepDetail = "only exported symbols, nothing to convert";
            AtomicFile.Copy(InputModule, OutputModule);
            StepLine.LogFiles(Log, "output", [OutputModule]);
            return;
        }

        var map = LoadSymbolMap(diagnostics);
        if (map is null) return;
        var positions = new List<SymbolPosition>();
        foreach (var item in KernelSymbols)
        {
            var text = item.GetMetadata("Position");
            int? position = null;
            if (int.TryParse(text, out var parsed) && parsed >= 0) position = parsed;
            else if (text.Length > 0)
                diagnostics.Error("KLP2013", $"KernelSymbol '{item.ItemSpec}' has Position '{text}': it must be a whole number (0 for a unique name, N for the N-th occurrence).", ProjectFile,
                    ProjectItemLocator.LineOf(ProjectFile, "KernelSymbol", item.ItemSpec.Trim()));
            positions.Add(new SymbolPosition(item.ItemSpec.Trim(), item.GetMetadata("Object") is { Length: > 0 } obj ? obj.Replace('-', '_') : null, position));
        }
        if (diagnostics.HasErrors) return;
        var options = new ConversionOptions { Positions = positions };
        var conversion = new DiagnosticBag();
        var report = LivepatchConverter.Convert(module, map, exports, options, conversion);
        diagnostics.AddRange(conversion.Items.Select(d => d.File is null || d.File == InputModule ? d with { File = ProjectFile } : d));
        if (!report.Succeeded || diagnostics.HasErrors) return;
        foreach (var relocation in report.Relocations)
            Log.LogMessage(MessageImportance.Low,
                $"converted {relocation.PatchedSection}+0x{relocation.Offset:x} ({relocation.OriginalSymbol}) → {relocation.Section} {relocation.Target.SymbolName}");
        StepDetail = $"{report.Relocations.Count} relocation(s) to {report.Symbols.Count} non-exported symbol(s) now resolve through the livepatch core";
        ElfWriter.WriteFile(module, OutputModule, diagnostics);
        StepLine.LogFiles(Log, "output", [OutputModule, SymbolMapFile]);
    }

    private KernelSymbolMap? LoadSymbolMap(DiagnosticBag diagnostics)
    {
        var files = TargetFiles();
        var map = files.SymbolMap(diagnostics, ProjectFile);
        SymbolMapFile = SymbolMapCache.ForKernel(files.Cache, KernelRelease, files.CacheVersion).TextPath;
        return map;
    }
}
