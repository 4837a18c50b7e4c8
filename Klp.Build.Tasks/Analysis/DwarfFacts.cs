using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;
using Klp.Build.Symbols;

namespace Klp.Build.Analysis;

/// <summary>
/// The DWARF-based checks over the target's debug info (vmlinux, or a module's debug file) and the patch
/// module's own: where a function was inlined, and whether a replacement's prototype matches what it replaces.
/// </summary>
public sealed class DwarfFacts(Func<string, DwarfIndex?> targetIndex, DwarfIndex? patchIndex) : IDwarfFacts
{
    public static DwarfIndex? IndexPatchModule(Elf.ElfFile module, DiagnosticBag diagnostics)
    {
        var sections = DwarfSections.FromElf(module, diagnostics);
        return sections is null ? null : DwarfIndex.Build(sections, diagnostics);
    }

    public IReadOnlyList<string>? InlinedInto(string objectName, string function)
    {
        if (targetIndex(objectName) is not { } index) return null;
        return index.FindInlinedCopies(function)
            .Select(copy => copy.ContainingFunction).OfType<string>()
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    public IReadOnlyList<SafetyFinding> CheckPrototype(PrototypeCheck check)
    {
        var replacementName = check.Request.ReplacementName;
        if (replacementName is null || patchIndex is null || targetIndex(check.Request.Object) is not { } index) return [];
        var replacement = patchIndex.FindFunctions(replacementName).FirstOrDefault(f => f.HasCode && !f.IsDeclaration);
        if (replacement is null) return [];

        var candidates = index.FindFunctions(check.OriginalFunction).Where(f => !f.IsDeclaration).ToList();
        var concrete = check.Address != 0 && check.Request.Object == KernelSymbolMap.Vmlinux
            ? index.FindFunctionsContaining(check.Address).FirstOrDefault(f => f.LowAddress == check.Address)
            : candidates.FirstOrDefault(f => f.HasCode);
        var original = concrete ?? candidates.FirstOrDefault();
        if (original is null) return [];

        var replacementTypes = Signature(replacement.ReturnType, replacement.Parameters);
        var label = check.Request.ToString();
        if (check.IsClone)
        {
            var actual = (original.ConcreteParameters ?? original.Parameters).Where(p => p.HasLocation || p.IsVariadic).ToList();
            var cloneTypes = Signature(original.ReturnType, actual);
            if (cloneTypes == replacementTypes) return [];
            return [new SafetyFinding(SafetyCodes.ClonePrototypeMismatch, SafetySeverity.Error, label,
                $"the replacement {replacementName} is '{replacementTypes}' but the clone '{check.Request.Name}' really takes '{cloneTypes}' " +
                $"(GCC's IPA changed the parameters of {original.Prototype}): write the replacement with the clone's parameters.",
                new Dictionary<string, IReadOnlyList<string>> { ["clone"] = [cloneTypes], ["replacement"] = [replacementTypes] })];
        }

        var originalTypes = Signature(original.ReturnType, original.Parameters);
        if (originalTypes == replacementTypes) return [];
        return [new SafetyFinding(SafetyCodes.PrototypeMismatch, SafetySeverity.Error, label,
            $"the replacement {replacementName} is '{replacementTypes}' but '{check.Request.Name}' in {check.Request.Object} is '{originalTypes}' ({original.Prototype}): " +
            "the kernel jumps to the replacement with the original's arguments, so give it exactly the original's prototype.",
            new Dictionary<string, IReadOnlyList<string>> { ["original"] = [originalTypes], ["replacement"] = [replacementTypes] })];
    }

    private static string Signature(string returnType, IReadOnlyList<DwarfParameter> parameters) =>
        $"{returnType} ({(parameters.Count == 0 ? "void" : string.Join(", ", parameters.Select(p => p.Type)))})";
}
