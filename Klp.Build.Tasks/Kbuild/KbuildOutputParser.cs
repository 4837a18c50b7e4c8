using System.Text.RegularExpressions;
using Klp.Build.Diagnostics;

namespace Klp.Build.Kbuild;

/// <summary>
/// Turns what kbuild prints (gcc, ld, modpost, make) into diagnostics on the user's own files and lines,
/// mapping kbuild's mirrored paths back into the project.
/// </summary>
public sealed partial class KbuildOutputParser(Func<string, string> mapPath, IReadOnlySet<string>? projectSymbols = null,
    Func<string, string?>? describeProjectSymbol = null, string? projectFile = null, bool undefinedKernelSymbolsAreConverted = false)
{
    [GeneratedRegex(@"^(?<file>/[^:]+):(?<line>\d+)(?::(?<column>\d+))?: (?<severity>fatal error|error|warning|note): (?<message>.*)$")]
    private static partial Regex CompilerDiagnostic();

    [GeneratedRegex(@"^(?:\S*gcc\S*|cc1|ld|\S*-ld): (?<severity>fatal error|error|warning): (?<message>.*)$")]
    private static partial Regex ToolDiagnostic();

    [GeneratedRegex(@"^(?<severity>ERROR|WARNING): modpost: ""(?<symbol>[^""]+)"" \[(?<module>[^\]]+)\] undefined!$")]
    private static partial Regex ModpostUndefined();

    [GeneratedRegex(@"^(?<severity>ERROR|WARNING): modpost: (?<message>.*)$")]
    private static partial Regex ModpostOther();

    [GeneratedRegex(@"^(?<file>/[^:]+):(?:\(\.\S+\)|\d+): undefined reference to [`'‘](?<symbol>[^'’]+)['’]")]
    private static partial Regex LinkerUndefined();

    [GeneratedRegex(@"^make(\[\d+\])?: \*\*\* ")]
    private static partial Regex MakeFailure();

    public bool SawError { get; private set; }

    /// <summary>A diagnostic for the line, or null when it is progress or context (logged as a message).</summary>
    public Diagnostic? Parse(string line)
    {
        var diagnostic = ParseCore(line.TrimEnd());
        if (diagnostic?.IsError == true) SawError = true;
        return diagnostic;
    }

    public static bool IsMakeFailure(string line) => MakeFailure().IsMatch(line);

    private Diagnostic? ParseCore(string line)
    {
        var match = CompilerDiagnostic().Match(line);
        if (match.Success)
        {
            var severity = match.Groups["severity"].Value;
            if (severity == "note") return null;
            var column = match.Groups["column"].Success ? int.Parse(match.Groups["column"].Value) : 0;
            var error = severity != "warning";
            return new Diagnostic(error ? "KLP2001" : "KLP2002", error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
                match.Groups["message"].Value, mapPath(match.Groups["file"].Value), int.Parse(match.Groups["line"].Value), column);
        }

        match = ModpostUndefined().Match(line);
        if (match.Success)
        {
            var symbol = match.Groups["symbol"].Value;
            if (undefinedKernelSymbolsAreConverted && projectSymbols?.Contains(symbol) != true) return null;
            return Undefined(symbol, match.Groups["severity"].Value == "ERROR");
        }

        match = LinkerUndefined().Match(line);
        if (match.Success) return Undefined(match.Groups["symbol"].Value, error: true);

        match = ModpostOther().Match(line);
        if (match.Success)
        {
            var error = match.Groups["severity"].Value == "ERROR";
            return new Diagnostic("KLP2003", error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
                "modpost: " + match.Groups["message"].Value, projectFile);
        }

        match = ToolDiagnostic().Match(line);
        if (match.Success)
        {
            var error = match.Groups["severity"].Value != "warning";
            return new Diagnostic(error ? "KLP2001" : "KLP2002", error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
                match.Groups["message"].Value, projectFile);
        }
        return null;
    }

    private Diagnostic Undefined(string symbol, bool error)
    {
        if (projectSymbols?.Contains(symbol) == true)
            return new Diagnostic("KLP2004", DiagnosticSeverity.Error,
                $"{describeProjectSymbol?.Invoke(symbol) ?? $"'{symbol}'"} is not defined in the project's sources: define {symbol} in a .c file of the project, without 'static' (the generated registration refers to it from another file).",
                projectFile);
        return new Diagnostic("KLP2006", error ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
            $"'{symbol}' is neither defined in the patch nor exported by the target kernel: declare it correctly, or reference only exported symbols.",
            projectFile);
    }
}
