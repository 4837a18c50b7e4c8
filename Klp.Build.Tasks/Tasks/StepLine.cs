using Klp.Build.Diagnostics;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Klp.Build.Tasks;

/// <summary>
/// The one line a pipeline step prints at normal verbosity ("klp: compile 6.1.0-56-amd64 (…) 3.2 s"): Normal
/// importance, so that `dotnet build` at its default minimal verbosity stays quiet.
/// </summary>
public static class StepLine
{
    public static void Log(TaskLoggingHelper log, string step, string? release, string? detail, TimeSpan elapsed) =>
        log.LogMessage(MessageImportance.Normal, ProgressLine.Format(step, release, detail, elapsed));

    /// <summary>
    /// Logs a step's line once per build of a project and release, when several tasks share a step (the symbol map
    /// is loaded by conversion and by the analysis); later ones go to the binary log only.
    /// </summary>
    public static void LogOnce(TaskLoggingHelper log, IBuildEngine? engine, string key, string line)
    {
        var first = true;
        if (engine is IBuildEngine4 registry)
        {
            var name = "klp-step-line:" + key;
            first = registry.GetRegisteredTaskObject(name, RegisteredTaskObjectLifetime.Build) is null;
            if (first) registry.RegisterTaskObject(name, line, RegisteredTaskObjectLifetime.Build, allowEarlyCollection: false);
        }
        log.LogMessage(first ? MessageImportance.Normal : MessageImportance.Low, line);
    }

    /// <summary>A task's inputs and outputs at low importance: the binary log (-bl) shows what each step read and wrote.</summary>
    public static void LogFiles(TaskLoggingHelper log, string what, IEnumerable<string?> files)
    {
        foreach (var file in files.Where(f => !string.IsNullOrEmpty(f)))
            log.LogMessage(MessageImportance.Low, $"{what}: {file}" + (File.Exists(file) ? $" ({new FileInfo(file!).Length} bytes)" : ""));
    }
}
