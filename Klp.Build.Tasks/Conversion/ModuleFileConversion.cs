using System.Globalization;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Symbols;

namespace Klp.Build.Conversion;

/// <summary>
/// klp-convert on files: reads a module, converts it against a symbol map and writes the output atomically, only
/// when there is no error (a stale output of an earlier run is removed then). Shared by `klp-convert` and `klp convert`.
/// </summary>
public static class ModuleFileConversion
{
    /// <summary>The exports of every Module.symvers given (none: every undefined symbol counts as non-exported).</summary>
    public static ExportedSymbols ReadSymvers(IEnumerable<string> paths, DiagnosticBag diagnostics)
    {
        var exports = ExportedSymbols.Empty;
        foreach (var path in paths)
        {
            var read = ExportedSymbols.ReadSymvers(path, diagnostics);
            if (read is null) continue;
            foreach (var symbol in read.Symbols) exports.Add(symbol);
        }
        return exports;
    }

    /// <summary>The symbol map in klp-convert format, or null with KLP3039 when the file cannot be read.</summary>
    public static KernelSymbolMap? ReadMap(string path, DiagnosticBag diagnostics)
    {
        try
        {
            return KernelSymbolMap.Read(path, diagnostics);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(ConversionCodes.CommandLine, $"cannot read symbol map '{path}': {e.Message}", path);
            return null;
        }
    }

    /// <summary>The converted relocations, one line each ("section: 0xoffset TYPE symbol -> .klp.sym..."), or null on any error.</summary>
    public static IReadOnlyList<string>? Convert(string input, string output, KernelSymbolMap? map, ExportedSymbols exports, ConversionOptions options,
        DiagnosticBag diagnostics) =>
        Finish(input, output, TryConvert(input, output, () => map, lazyMap: false, exports, options, diagnostics), diagnostics);

    /// <summary>
    /// As the SDK's conversion step: a module that uses only exported symbols is copied unchanged, and the map (a
    /// release's needs its -dbg package) is asked for only when there is something to convert.
    /// </summary>
    public static IReadOnlyList<string>? ConvertWhenNeeded(string input, string output, Func<KernelSymbolMap?> map, ExportedSymbols exports,
        ConversionOptions options, DiagnosticBag diagnostics) =>
        Finish(input, output, TryConvert(input, output, map, lazyMap: true, exports, options, diagnostics), diagnostics);

    private static IReadOnlyList<string>? Finish(string input, string output, IReadOnlyList<string>? lines, DiagnosticBag diagnostics)
    {
        if (lines is not null && !diagnostics.HasErrors) return lines;
        RemoveStaleOutput(input, output);
        return null;
    }

    /// <summary>"object.symbol,position", like the livepatch symbol name without ".klp.sym.".</summary>
    public static SymbolPosition? ParseSympos(string text)
    {
        var dot = text.IndexOf('.');
        var comma = text.LastIndexOf(',');
        if (dot <= 0 || comma < dot + 2 || !int.TryParse(text[(comma + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var position)) return null;
        return new SymbolPosition(text[(dot + 1)..comma], text[..dot], position);
    }

    private static List<string>? TryConvert(string input, string output, Func<KernelSymbolMap?> loadMap, bool lazyMap, ExportedSymbols exports,
        ConversionOptions options, DiagnosticBag diagnostics)
    {
        if (!File.Exists(input))
        {
            diagnostics.Error(ConversionCodes.CommandLine, $"input module '{input}' does not exist.", input);
            return null;
        }
        var module = ElfReader.Read(input, diagnostics);
        if (module is null || diagnostics.HasErrors) return null;
        if (lazyMap && ConversionNeed.SymbolsToResolve(module, exports).Count == 0)
        {
            AtomicFile.Copy(input, output);
            return [];
        }
        var map = loadMap();
        if (map is null || diagnostics.HasErrors) return null;

        var report = LivepatchConverter.Convert(module, map, exports, options, diagnostics);
        if (!report.Succeeded) return null;
        var lines = report.Relocations.Select(r => string.Create(CultureInfo.InvariantCulture,
            $"{r.Section}: 0x{r.Offset:x} {ElfRelocationTypes.Describe(module.Machine, r.Type)} {r.OriginalSymbol} -> {r.Target.SymbolName}")).ToList();
        return ElfWriter.WriteFile(module, output, diagnostics) ? lines : null;
    }

    private static void RemoveStaleOutput(string input, string output)
    {
        try
        {
            if (Path.GetFullPath(input) != Path.GetFullPath(output) && File.Exists(output)) File.Delete(output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort: the error has been reported already
        }
    }
}
