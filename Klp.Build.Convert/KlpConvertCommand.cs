using System.Globalization;
using Klp.Build.Conversion;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Symbols;

namespace Klp.Build.KlpConvert;

/// <summary>
/// klp-convert [--symvers Module.symvers]... [--sympos object.symbol,position]... [--verbose] &lt;symbol map&gt; &lt;input.ko&gt; &lt;output.ko&gt;.
/// Exit code 0 when converted, 1 on any error; the output is written atomically and only when there is no error
/// (a stale output from an earlier run is removed then, unless it is the input).
/// </summary>
public static class KlpConvertCommand
{
    public const string Usage =
        "usage: klp-convert [--symvers <Module.symvers>]... [--sympos <object>.<symbol>,<position>]... [--verbose] <symbol map> <input.ko> <output.ko>";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var diagnostics = new DiagnosticBag();
        var symvers = new List<string>();
        var positions = new List<SymbolPosition>();
        var positional = new List<string>();
        var verbose = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string? Value()
            {
                var eq = arg.IndexOf('=');
                if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0) return arg[(eq + 1)..];
                if (i + 1 < args.Length) return args[++i];
                diagnostics.Error(ConversionCodes.CommandLine, $"option {arg} needs a value.");
                return null;
            }
            var option = arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('=') ? arg[..arg.IndexOf('=')] : arg;
            switch (option)
            {
                case "-h" or "--help":
                    stdout.WriteLine(Usage);
                    return 0;
                case "--symvers":
                    if (Value() is { } path) symvers.Add(path);
                    break;
                case "--sympos":
                    if (Value() is { } text)
                    {
                        if (ParseSympos(text) is { } p) positions.Add(p);
                        else diagnostics.Error(ConversionCodes.CommandLine, $"--sympos '{text}' is not <object>.<symbol>,<position> (e.g. vmlinux.type_show,3).");
                    }
                    break;
                case "-v" or "--verbose":
                    verbose = true;
                    break;
                case "--":
                    positional.AddRange(args[(i + 1)..]);
                    i = args.Length;
                    break;
                default:
                    if (arg.StartsWith('-') && arg.Length > 1) diagnostics.Error(ConversionCodes.CommandLine, $"unknown option '{arg}'.");
                    else positional.Add(arg);
                    break;
            }
        }
        if (!diagnostics.HasErrors && positional.Count != 3)
            diagnostics.Error(ConversionCodes.CommandLine, $"expected 3 arguments (symbol map, input module, output module), got {positional.Count}.");
        if (diagnostics.HasErrors)
        {
            Print(diagnostics, stderr);
            stderr.WriteLine(Usage);
            return 1;
        }

        var (mapPath, input, output) = (positional[0], positional[1], positional[2]);
        var ok = Convert(mapPath, input, output, symvers, positions, verbose, stdout, diagnostics);
        Print(diagnostics, stderr);
        if (ok && !diagnostics.HasErrors) return 0;
        RemoveStaleOutput(input, output);
        return 1;
    }

    private static bool Convert(string mapPath, string input, string output, List<string> symversPaths, List<SymbolPosition> positions, bool verbose,
        TextWriter stdout, DiagnosticBag diagnostics)
    {
        KernelSymbolMap? map;
        try
        {
            map = KernelSymbolMap.Read(mapPath, diagnostics);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            diagnostics.Error(ConversionCodes.CommandLine, $"cannot read symbol map '{mapPath}': {e.Message}", mapPath);
            return false;
        }
        var exports = ExportedSymbols.Empty;
        foreach (var path in symversPaths)
        {
            var read = ExportedSymbols.ReadSymvers(path, diagnostics);
            if (read is null) continue;
            foreach (var symbol in read.Symbols) exports.Add(symbol);
        }
        if (!File.Exists(input))
        {
            diagnostics.Error(ConversionCodes.CommandLine, $"input module '{input}' does not exist.", input);
            return false;
        }
        var module = ElfReader.Read(input, diagnostics);
        if (map is null || module is null || diagnostics.HasErrors) return false;

        var options = new ConversionOptions { Positions = positions, PositionsSource = "the command line (--sympos)" };
        var report = LivepatchConverter.Convert(module, map, exports, options, diagnostics);
        if (!report.Succeeded) return false;
        if (verbose)
        {
            foreach (var r in report.Relocations)
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Section}: 0x{r.Offset:x} {ElfRelocationTypes.Describe(module.Machine, r.Type)} {r.OriginalSymbol} -> {r.Target.SymbolName}"));
        }
        return ElfWriter.WriteFile(module, output, diagnostics);
    }

    /// <summary>"object.symbol,position", like the livepatch symbol name without ".klp.sym.".</summary>
    internal static SymbolPosition? ParseSympos(string text)
    {
        var dot = text.IndexOf('.');
        var comma = text.LastIndexOf(',');
        if (dot <= 0 || comma < dot + 2 || !int.TryParse(text[(comma + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var position)) return null;
        return new SymbolPosition(text[(dot + 1)..comma], text[..dot], position);
    }

    private static void Print(DiagnosticBag diagnostics, TextWriter stderr)
    {
        foreach (var d in diagnostics.Items)
            stderr.WriteLine(d.File is null ? $"klp-convert: {d}" : d.ToString());
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
