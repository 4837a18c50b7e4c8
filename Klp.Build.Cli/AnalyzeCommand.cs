using System.CommandLine;
using Klp.Build.Analysis;
using Klp.Build.Symbols;

namespace Klp.Build.Cli;

/// <summary>
/// klp analyze &lt;release&gt; &lt;function&gt;... [--object O] [--position N] [--patch M.ko] [--json F]: the SDK's safety
/// analysis (KLP41xx) of replacing those functions in the real target, without a project.
/// </summary>
public static class AnalyzeCommand
{
    public static Command Create(CliConsole console)
    {
        var release = TargetOptions.Release();
        var functions = new Argument<string[]>("function") { Description = "Kernel functions to replace", Arity = ArgumentArity.OneOrMore };
        functions.Validators.Add(result =>
        {
            foreach (var token in result.Tokens.Where(t => t.Value.StartsWith('-')))
                result.AddError($"Unrecognized option '{token.Value}' (a function name cannot start with '-').");
        });
        var obj = new Option<string>("--object") { Description = "The object that defines them: vmlinux or a module name", DefaultValueFactory = _ => KernelSymbolMap.Vmlinux };
        var position = new Option<int>("--position") { Description = "sympos of a name that occurs more than once (0: unique)" };
        var patch = new Option<string?>("--patch") { Description = "A built livepatch module whose replacements are checked too (registers, purity, prototype); a replacement is named <function>=<replacement>" };
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON (the SDK's klp-safety.json)" };
        var cache = TargetOptions.CacheDirectory();
        var command = new Command("analyze", "Check whether functions of a Debian kernel release can be livepatched safely: inlining, clones, IPA-ICF, ftrace, IPA-RA, prototypes.")
        {
            release, functions, obj, position, patch, json, cache,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(console.Execute(diagnostics =>
        {
            var target = TargetOptions.Resolve(parse.GetValue(release)!, parse.GetValue(cache), console, cancellationToken);
            var objectName = parse.GetValue(obj)!.Replace('-', '_');
            var requests = parse.GetValue(functions)!.Select(f => f.Split('=', 2))
                .Select(f => new PatchedFunctionRequest(f[0].Trim(), objectName, parse.GetValue(position), f.Length > 1 ? f[1].Trim() : null)).ToList();
            var report = TargetSafetyAnalysis.Analyze(target, requests, parse.GetValue(patch), diagnostics, null, console.Progress, cancellationToken);
            if (report is null) return;
            console.Out.WriteLine(report.ToText().TrimEnd());
            if (parse.GetValue(json) is { } jsonFile) report.WriteJson(jsonFile);
        })));
        return command;
    }
}
