using System.CommandLine;

namespace Klp.Build.Cli;

/// <summary>klp symbols &lt;release&gt; [-o file]: the target's symbol map in klp-convert format (generated once, cached with the SDK's).</summary>
public static class SymbolsCommand
{
    public static Command Create(CliConsole console)
    {
        var release = TargetOptions.Release();
        var cache = TargetOptions.CacheDirectory();
        var output = new Option<string?>("--output", "-o") { Description = "Write the map to this file (default: stdout)" };
        var command = new Command("symbols", "Write a Debian kernel release's symbol map (vmlinux and every module, kallsyms order) in klp-convert format.")
        {
            release, cache, output,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(console.Execute(diagnostics =>
        {
            var target = TargetOptions.Resolve(parse.GetValue(release)!, parse.GetValue(cache), console, cancellationToken);
            var map = target.SymbolMap(diagnostics, null);
            if (map is null) return;
            var file = parse.GetValue(output);
            if (file is null) map.Write(console.Out);
            else map.WriteFile(file);
            console.Progress($"Symbol map of {target.Target.Release}: {map.Objects.Count} objects, {map.Objects.Sum(o => o.Symbols.Count)} symbols{(file is null ? "" : $", written to {file}")}");
        })));
        return command;
    }
}
