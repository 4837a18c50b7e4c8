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

    /// <summary>The pipeline step this task is ("compile", "analysis"): it prints one line with its duration at normal verbosity.</summary>
    protected virtual string? StepName => null;

    /// <summary>The release the step's line names.</summary>
    protected virtual string? StepRelease => DiagnosticLogging.InnerBuildRelease(BuildEngine);

    /// <summary>What the step's line says besides its time ("cached", "2 relocation(s)").</summary>
    protected string? StepDetail { get; set; }

    public sealed override bool Execute()
    {
        var diagnostics = new DiagnosticBag();
        var watch = System.Diagnostics.Stopwatch.StartNew();
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
        var located = diagnostics.Items.Select(d => d.File is null && ProjectFile is not null ? d with { File = ProjectFile } : d).ToList();
        if (!string.IsNullOrEmpty(ReleaseWarningsFile) && DiagnosticLogging.InnerBuildRelease(BuildEngine) is not null)
            located = DeferWarnings(located, ReleaseWarningsFile);
        Log.LogDiagnostics(located.Select(d => DiagnosticLogging.ForInnerBuild(d, BuildEngine)));
        if (StepName is not null)
            StepLine.Log(Log, StepName, StepRelease, diagnostics.HasErrors ? "failed" : StepDetail, watch.Elapsed);
        return !Log.HasLoggedErrors;
    }

    protected abstract void Run(DiagnosticBag diagnostics);

    /// <summary>
    /// In one release's inner build of a multi-kernel build: where this step's warnings go for the outer build to
    /// report once across releases (MergeReleaseWarnings); here they reach the log at low importance only.
    /// </summary>
    public string? ReleaseWarningsFile { get; set; }

    private List<Diagnostic> DeferWarnings(List<Diagnostic> diagnostics, string file)
    {
        var warnings = diagnostics.Where(d => !d.IsError).ToList();
        ReleaseWarnings.Write(file, warnings);
        foreach (var warning in warnings)
            Log.LogMessage(MessageImportance.Low, $"{warning.Code} (warning, reported by the outer build once for all releases) {DiagnosticLogging.ForInnerBuild(warning, BuildEngine).Message}");
        return diagnostics.Where(d => d.IsError).ToList();
    }
}

public static class DiagnosticLogging
{
    /// <summary>
    /// In one release's inner build of a multi-kernel build (KernelReleases), the diagnostic says which release
    /// it holds for ("[6.1.0-56-amd64] ..."): the outer build runs several releases at once.
    /// </summary>
    public static Diagnostic ForInnerBuild(Diagnostic diagnostic, IBuildEngine? buildEngine)
    {
        var release = InnerBuildRelease(buildEngine);
        return release is null || diagnostic.Message.StartsWith($"[{release}]", StringComparison.Ordinal)
            ? diagnostic
            : diagnostic with { Message = $"[{release}] {diagnostic.Message}" };
    }

    public static string? InnerBuildRelease(IBuildEngine? buildEngine)
    {
        if (buildEngine is not IBuildEngine6 engine) return null;
        var properties = engine.GetGlobalProperties();
        return properties.TryGetValue("KlpKernelInnerBuild", out var inner) && string.Equals(inner, "true", StringComparison.OrdinalIgnoreCase)
               && properties.TryGetValue("KernelRelease", out var release) && !string.IsNullOrEmpty(release)
            ? release
            : null;
    }

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
