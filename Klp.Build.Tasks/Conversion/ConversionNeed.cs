using Klp.Build.Elf;

namespace Klp.Build.Conversion;

/// <summary>Whether a linked module refers to anything only the target's symbol map can resolve.</summary>
public static class ConversionNeed
{
    /// <summary>The undefined, non-exported symbols (and livepatch annotations) that make a symbol map necessary.</summary>
    public static IReadOnlyList<string> SymbolsToResolve(ElfFile module, ExportedSymbols exports)
    {
        var symbols = module.SymbolTable?.Symbols
            .Where(s => s.IsUndefined && s.Name.Length > 0 && !exports.Contains(s.Name))
            .Select(s => s.Name).Distinct().ToList() ?? [];
        if (module.Sections.Any(s => s.Name.StartsWith(LivepatchNames.AnnotationPrefix, StringComparison.Ordinal)))
            symbols.Add(LivepatchNames.AnnotationPrefix + "*");
        return symbols;
    }
}
