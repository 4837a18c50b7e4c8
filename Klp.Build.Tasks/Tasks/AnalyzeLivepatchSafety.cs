using Klp.Build.Analysis;
using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Elf;
using Klp.Build.IpaClones;
using Klp.Build.Kernels;
using Klp.Build.Symbols;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>
/// Checks every patched function against the target's real binaries (symbols, code, DWARF): inlining, clones,
/// IPA-ICF, ftrace sites, positions, IPA-RA and purity, prototypes, functions that cannot be replaced.
/// Writes the JSON report and prints the summary.
/// </summary>
public sealed class AnalyzeLivepatchSafety : KernelTargetTask
{
    public string? KernelSourceDirectory { get; set; }
    public bool DeepCloneAnalysis { get; set; }
    public string? WorkDirectory { get; set; }

    [Required] public string PatchModule { get; set; } = "";
    [Required] public string ReportFile { get; set; } = "";
    public ITaskItem[] PatchedFunctions { get; set; } = [];

    protected override string? StepName => "analysis";

    protected override void Run(DiagnosticBag diagnostics)
    {
        if (KernelArchitecture != Kernels.KernelArchitecture.Amd64.Debian)
        {
            StepDetail = $"skipped: {KernelArchitecture}; the analysis reads x86_64 targets only";
            return;
        }
        var requests = PatchedFunctions.Select(item => new PatchedFunctionRequest(
            item.ItemSpec.Trim(),
            item.GetMetadata("Object") is { Length: > 0 } obj ? obj.Replace('-', '_') : KernelSymbolMap.Vmlinux,
            int.TryParse(item.GetMetadata("Position"), out var position) ? position : 0,
            item.GetMetadata("Replacement") is { Length: > 0 } replacement ? replacement : null)).ToList();

        var files = TargetFiles();
        var bag = new DiagnosticBag();
        var report = TargetSafetyAnalysis.Analyze(files, requests, PatchModule, bag, ProjectFile,
            message => Log.LogMessage(MessageImportance.Low, message), CancellationToken);
        if (report is not null && (DeepCloneAnalysis || !string.IsNullOrEmpty(KernelSourceDirectory)))
            report = DeepenWithIpaClones(files, report, files.VmlinuxDwarf(bag, ProjectFile), bag);
        if (report is not null)
        {
            report.WriteJson(ReportFile);
            StepLine.LogFiles(Log, "input", [PatchModule, files.Vmlinux(bag, ProjectFile)]);
            StepLine.LogFiles(Log, "output", [ReportFile]);
            var summary = report.ToText().TrimEnd();
            StepDetail = summary.Split('\n')[0].Split(": ", 2)[^1].Trim();
            Log.LogMessage(MessageImportance.Low, summary);
        }
        diagnostics.AddRange(bag.Items.Select(Locate));
    }

    /// <summary>Puts a finding on the PatchedFunction item it is about, when the message names one.</summary>
    private Diagnostic Locate(Diagnostic diagnostic)
    {
        if (diagnostic.File is not null && diagnostic.File != PatchModule) return diagnostic;
        var item = PatchedFunctions.FirstOrDefault(i => diagnostic.Message.Contains($"'{i.ItemSpec.Trim()}'", StringComparison.Ordinal));
        var line = item is null ? 0 : ProjectItemLocator.LineOf(ProjectFile, "PatchedFunction", item.ItemSpec.Trim());
        return diagnostic with { File = ProjectFile, Line = line };
    }

    private SafetyReport DeepenWithIpaClones(TargetKernelFiles files, SafetyReport report, DwarfIndex? dwarf, DiagnosticBag diagnostics)
    {
        var source = string.IsNullOrEmpty(KernelSourceDirectory)
            ? KernelSourceTree.FromDebian(files.Target, new DebianArchive(), files.Cache, CancellationToken)
            : KernelSourceTree.FromDirectory(KernelSourceDirectory);
        var toolchain = KernelPrerequisites.Check(files.Target, new DiagnosticBag());
        var functions = new List<FunctionSafety>();
        foreach (var function in report.Functions)
        {
            var request = function.Request;
            var unit = request.Object == KernelSymbolMap.Vmlinux
                ? dwarf?.FindFunctions(CloneNames.BaseName(request.Name)).Select(f => f.CompileUnit.Name).FirstOrDefault(n => n.EndsWith(".c", StringComparison.Ordinal))
                : null;
            if (unit is null)
            {
                functions.Add(function);
                continue;
            }
            var dump = IpaCloneCompiler.Compile(files.Target, toolchain, source, unit, Path.Combine(WorkDirectory ?? Path.GetTempPath(), "ipa-clones"), diagnostics, CancellationToken);
            var required = dump is null ? [] : PatchClosure.Compute(dump, [CloneNames.BaseName(request.Name)]).Where(r => r.Path.Count > 0).ToList();
            if (required.Count == 0)
            {
                functions.Add(function);
                continue;
            }
            var finding = new SafetyFinding(IpaCloneCodes.MustAlsoPatch, SafetySeverity.Warning, request.ToString(),
                $"compiling {unit} with -fdump-ipa-clones shows that '{request.Name}' lives on in {required.Count} more function(s), which the patch must cover: " +
                string.Join("; ", required.Select(r => $"{r.Name} ({r.Reason})")),
                new Dictionary<string, IReadOnlyList<string>> { ["mustAlsoPatch"] = required.Select(r => r.Name).ToList(), ["translationUnit"] = [unit] });
            diagnostics.Warning(finding.Code, finding.Message);
            functions.Add(function with { Findings = [.. function.Findings, finding] });
        }
        return report with { Functions = functions };
    }
}
