using Klp.Build.Diagnostics;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Klp.Build.Tasks;

/// <summary>Base of the SDK's tasks: runs a library step, logs its diagnostics, honours Ctrl+C.</summary>
public abstract class KlpTask : Microsoft.Build.Utilities.Task, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    protected CancellationToken CancellationToken => _cancel.Token;

    /// <summary>The user's project: where a diagnostic without a file of its own is reported (not the SDK's .targets).</summary>
    public string? ProjectFile { get; set; }

    public void Cancel() => _cancel.Cancel();

    public sealed override bool Execute()
    {
        var diagnostics = new DiagnosticBag();
        try
        {
            Run(diagnostics);
        }
        catch (DiagnosticException exception)
        {
            diagnostics.Add(exception.Diagnostic);
        }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested)
        {
            Log.LogMessage(MessageImportance.High, $"{GetType().Name} canceled.");
            return false;
        }
        Log.LogDiagnostics(diagnostics.Items.Select(d => d.File is null && ProjectFile is not null ? d with { File = ProjectFile } : d));
        return !Log.HasLoggedErrors;
    }

    protected abstract void Run(DiagnosticBag diagnostics);
}

public static class DiagnosticLogging
{
    /// <summary>The page that explains a code, shipped inside the SDK package.</summary>
    public static string HelpLink(string code) =>
        new Uri(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(DiagnosticLogging).Assembly.Location)!,
            "..", "..", "docs", "diagnostics", code + ".md"))).AbsoluteUri;

    public static void LogDiagnostics(this TaskLoggingHelper log, IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics) log.LogDiagnostic(diagnostic);
    }

    public static void LogDiagnostic(this TaskLoggingHelper log, Diagnostic d)
    {
        if (d.IsError)
            log.LogError(null, d.Code, null, HelpLink(d.Code), d.File, d.Line, d.Column, 0, 0, d.Message);
        else
            log.LogWarning(null, d.Code, null, HelpLink(d.Code), d.File, d.Line, d.Column, 0, 0, d.Message);
    }
}
