using Klp.Build.Diagnostics;

namespace Klp.Build.Cli;

/// <summary>
/// Where a command writes: results to stdout; progress and diagnostics to stderr, as MSBuild prints them
/// ("file(line,col): error KLPnnnn: message", or "klp: error KLPnnnn: message" without a file), so editors' problem matchers read them.
/// </summary>
public sealed class CliConsole(TextWriter stdout, TextWriter stderr)
{
    public const int ErrorExitCode = 1;
    public const int UsageExitCode = 2;

    public TextWriter Out => stdout;

    public void Progress(string message) => stderr.WriteLine(message);

    public void Error(string code, string message) => Print(new Diagnostic(code, DiagnosticSeverity.Error, message));

    public void Print(Diagnostic diagnostic) => stderr.WriteLine(diagnostic.File is null ? $"klp: {diagnostic}" : diagnostic.ToString());

    /// <summary>Runs a command's work, prints its diagnostics and turns them into the exit code (0, or 1 on any error).</summary>
    public int Execute(Action<DiagnosticBag> work)
    {
        var diagnostics = new DiagnosticBag();
        try
        {
            work(diagnostics);
        }
        catch (DiagnosticException exception)
        {
            diagnostics.Add(exception.Diagnostic);
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("klp: canceled.");
            return ErrorExitCode;
        }
        foreach (var diagnostic in diagnostics.Items) Print(diagnostic);
        return diagnostics.HasErrors ? ErrorExitCode : 0;
    }
}
