using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Elf;
using Klp.Build.Kernels;
using Klp.Build.Symbols;

namespace Klp.Build.Analysis;

/// <summary>
/// The safety analysis over a real target: loads the debug vmlinux (symbols, code, DWARF, callers index), the
/// modules a request names and, when given, the patch module, then analyses every request. Shared by the
/// SDK's KlpAnalyzeSafety step and `klp analyze`.
/// </summary>
public static class TargetSafetyAnalysis
{
    /// <summary>The report, or null when the target cannot be analysed (not x86_64: logged; no vmlinux: diagnosed).</summary>
    public static SafetyReport? Analyze(TargetKernelFiles files, IReadOnlyList<PatchedFunctionRequest> requests, string? patchModule,
        DiagnosticBag diagnostics, string? projectFile, Action<string> log, CancellationToken cancellationToken)
    {
        var target = files.Target;
        if (target.Architecture != KernelArchitecture.Amd64)
        {
            log($"Safety analysis: {target.Release} is {target.Architecture.Debian}; the analysis reads x86_64 targets only.");
            return null;
        }
        if (requests.Count == 0) return null;

        var vmlinux = files.Vmlinux(diagnostics, projectFile);
        if (vmlinux is null) return null;
        var map = files.SymbolMap(diagnostics, projectFile);
        var dwarf = files.VmlinuxDwarf(diagnostics, projectFile);
        var moduleDwarf = new Dictionary<string, DwarfIndex?>();
        DwarfIndex? DwarfOf(string obj) => obj == KernelSymbolMap.Vmlinux ? dwarf
            : moduleDwarf.TryGetValue(obj, out var index) ? index : moduleDwarf[obj] = files.ModuleDwarf(obj, diagnostics);

        var patch = patchModule is null ? null : ElfReader.Read(patchModule, diagnostics);
        var patchDwarf = patch is null ? null : DwarfFacts.IndexPatchModule(patch, diagnostics);
        var moduleIndex = new Lazy<KernelModuleIndex>(() => new KernelModuleIndex(files.ModulesDirectory));
        var facts = TargetFacts.LoadVmlinux(target.Release, vmlinux, diagnostics, CallersIndexCache.ForKernel(files.Cache, target.Release, files.CacheVersion),
            map?.Find(KernelSymbolMap.Vmlinux), new DwarfFacts(DwarfOf, patchDwarf), name => LoadModule(moduleIndex.Value, name, diagnostics), cancellationToken);
        return facts is null ? null : LivepatchSafetyAnalyzer.Analyze(facts, requests, patch, diagnostics);
    }

    private static ObjectFacts? LoadModule(KernelModuleIndex modules, string name, DiagnosticBag diagnostics)
    {
        var path = modules.Find(name);
        if (path is null) return null;
        var (data, error) = ModuleFile.Read(path);
        if (data is null)
        {
            diagnostics.Warning(SafetyCodes.AnalysisIncomplete, $"cannot read module {path}: {error}.", path);
            return null;
        }
        var file = ElfReader.Read(data, path, diagnostics);
        return file is null ? null : ObjectFacts.ForModule(file, name);
    }
}
