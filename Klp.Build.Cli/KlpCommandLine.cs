using System.CommandLine;

namespace Klp.Build.Cli;

/// <summary>`klp &lt;command&gt;`: results on stdout; progress and diagnostics (in MSBuild's canonical form) on stderr.</summary>
public static class KlpCommandLine
{
    /// <summary>A command line that cannot be parsed: unknown command or option, missing argument.</summary>
    public const string UsageError = "KLP7001";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var console = new CliConsole(stdout, stderr);
        var root = new RootCommand("Linux kernel livepatch steps of Klp.Build.Sdk, outside MSBuild.")
        {
            ConvertCommand.Create(console),
            SymbolsCommand.Create(console),
            AnalyzeCommand.Create(console),
            VmTestCommand.Create(console),
        };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) console.Error(UsageError, error.Message);
            stderr.WriteLine($"Run '{CommandPath(parsed)} --help' for usage.");
            return CliConsole.UsageExitCode;
        }
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            return parsed.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr }, cancel.Token).GetAwaiter().GetResult();
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, result.Command is RootCommand ? "klp" : result.Command.Name);
        return string.Join(' ', names);
    }
}
