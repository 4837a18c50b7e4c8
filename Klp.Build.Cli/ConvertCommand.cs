using System.CommandLine;
using Klp.Build.Conversion;
using Klp.Build.Diagnostics;

namespace Klp.Build.Cli;

/// <summary>
/// klp convert [--symvers F]... [--sympos obj.sym,pos]... [--verbose] (&lt;map&gt; | --kernel-release R) &lt;in.ko&gt; &lt;out.ko&gt;:
/// klp-convert, against a symbol map file or the map (and Module.symvers) of a Debian release.
/// </summary>
public static class ConvertCommand
{
    public static Command Create(CliConsole console)
    {
        var symvers = new Option<string[]>("--symvers") { Description = "Module.symvers of the target (exports are not converted); repeatable" };
        var sympos = new Option<string[]>("--sympos") { Description = "<object>.<symbol>,<position> for a name that occurs more than once; repeatable" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "List every converted relocation on stdout" };
        var release = new Option<string?>("--kernel-release", "-k") { Description = "Use this Debian release's symbol map and Module.symvers instead of a map file" };
        var cache = TargetOptions.CacheDirectory();
        var files = new Argument<string[]>("files") { Description = "[<symbol map>] <input.ko> <output.ko>", Arity = new ArgumentArity(2, 3) };
        var command = new Command("convert", "Turn references to non-exported kernel symbols into livepatch relocations (klp-convert).")
        {
            symvers, sympos, verbose, release, cache, files,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(console.Execute(diagnostics =>
        {
            var paths = parse.GetValue(files)!;
            var kernelRelease = parse.GetValue(release);
            var expected = kernelRelease is null ? 3 : 2;
            if (paths.Length != expected)
            {
                diagnostics.Error(ConversionCodes.CommandLine, kernelRelease is null
                    ? $"expected 3 arguments (symbol map, input module, output module), got {paths.Length}; or give --kernel-release and the two modules."
                    : $"with --kernel-release, expected 2 arguments (input module, output module), got {paths.Length}.");
                return;
            }
            var positions = new List<SymbolPosition>();
            foreach (var text in parse.GetValue(sympos) ?? [])
            {
                if (ModuleFileConversion.ParseSympos(text) is { } position) positions.Add(position);
                else diagnostics.Error(ConversionCodes.CommandLine, $"--sympos '{text}' is not <object>.<symbol>,<position> (e.g. vmlinux.type_show,3).");
            }
            if (diagnostics.HasErrors) return;

            var symversFiles = (parse.GetValue(symvers) ?? []).ToList();
            var (input, output) = (paths[^2], paths[^1]);
            var options = new ConversionOptions { Positions = positions, PositionsSource = "the command line (--sympos)" };
            IReadOnlyList<string>? converted;
            if (kernelRelease is null)
            {
                var map = ModuleFileConversion.ReadMap(paths[0], diagnostics);
                converted = ModuleFileConversion.Convert(input, output, map, ModuleFileConversion.ReadSymvers(symversFiles, diagnostics), options, diagnostics);
            }
            else
            {
                var target = TargetOptions.Resolve(kernelRelease, parse.GetValue(cache), console, cancellationToken);
                symversFiles.Insert(0, Path.Combine(target.Target.BuildDirectory, "Module.symvers"));
                converted = ModuleFileConversion.ConvertWhenNeeded(input, output, () => target.SymbolMap(diagnostics, null),
                    ModuleFileConversion.ReadSymvers(symversFiles, diagnostics), options, diagnostics);
            }
            if (converted is null) return;
            if (parse.GetValue(verbose))
                foreach (var line in converted) console.Out.WriteLine(line);
            console.Progress(converted.Count == 0
                ? $"klp convert: the module uses only exported kernel symbols: nothing to convert; wrote {output}"
                : $"klp convert: {converted.Count} relocation(s) converted; wrote {output}");
        })));
        return command;
    }
}
