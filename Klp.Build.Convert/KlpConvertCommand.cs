using Klp.Build.Conversion;
using Klp.Build.Diagnostics;

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
                        if (ModuleFileConversion.ParseSympos(text) is { } p) positions.Add(p);
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
        var map = ModuleFileConversion.ReadMap(mapPath, diagnostics);
        var exports = ModuleFileConversion.ReadSymvers(symvers, diagnostics);
        var options = new ConversionOptions { Positions = positions, PositionsSource = "the command line (--sympos)" };
        var converted = ModuleFileConversion.Convert(input, output, map, exports, options, diagnostics);
        if (verbose && converted is not null)
            foreach (var line in converted) stdout.WriteLine(line);
        Print(diagnostics, stderr);
        return converted is null ? 1 : 0;
    }

    private static void Print(DiagnosticBag diagnostics, TextWriter stderr)
    {
        foreach (var d in diagnostics.Items)
            stderr.WriteLine(d.File is null ? $"klp-convert: {d}" : d.ToString());
    }
}
