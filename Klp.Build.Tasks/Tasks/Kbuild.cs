using Klp.Build.Diagnostics;
using Klp.Build.Kbuild;
using Klp.Build.Processes;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Klp.Build.Tasks;

/// <summary>
/// Runs the target kernel's kbuild on the module directory (make -C KDIR M=dir), turning gcc, ld and modpost
/// output into diagnostics on the project's own files.
/// </summary>
public sealed class Kbuild : ToolTask
{
    [Required] public string KernelBuildDirectory { get; set; } = "";
    [Required] public string WorkspaceDirectory { get; set; } = "";
    [Required] public string ProjectDirectory { get; set; } = "";
    [Required] public string KbuildArch { get; set; } = "";
    public string? CrossCompile { get; set; }
    public string Goal { get; set; } = "modules";
    public int Jobs { get; set; }
    public bool Verbose { get; set; }
    public string? ProjectFile { get; set; }

    /// <summary>The release the step's progress line names.</summary>
    public string? KernelRelease { get; set; }

    /// <summary>Let modpost pass undefined non-exported symbols: the conversion step resolves them afterwards.</summary>
    public bool ConvertNonExportedSymbols { get; set; }

    /// <summary>
    /// Reproducible build: fixed KBUILD_BUILD_TIMESTAMP/USER/HOST and SOURCE_DATE_EPOCH, and -ffile-prefix-map
    /// for every directory in PrefixMaps (ItemSpec = the directory, metadata To = what it becomes) through KCFLAGS.
    /// </summary>
    public bool Reproducible { get; set; }

    /// <summary>Seconds since 1970 (SOURCE_DATE_EPOCH); 0 when unset.</summary>
    public string? SourceDateEpoch { get; set; }

    public ITaskItem[] PrefixMaps { get; set; } = [];

    /// <summary>Functions the registration refers to, with ItemSpec = symbol and metadata Description.</summary>
    public ITaskItem[] ProjectSymbols { get; set; } = [];

    private KbuildOutputParser? _parser;
    private string? _lastMakeFailure;

    protected override string ToolName => "make";

    protected override string GenerateFullPathToTool() => ProcessRunner.FindOnPath("make") ?? "make";

    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.Normal;
    protected override MessageImportance StandardErrorLoggingImportance => MessageImportance.Normal;

    public override bool Execute()
    {
        var workspace = new KbuildWorkspace(WorkspaceDirectory, ProjectDirectory);
        var descriptions = ProjectSymbols.ToDictionary(s => s.ItemSpec, s => s.GetMetadata("Description"));
        _parser = new KbuildOutputParser(workspace.MapToProject, descriptions.Keys.ToHashSet(),
            symbol => descriptions.GetValueOrDefault(symbol), ProjectFile, ConvertNonExportedSymbols);
        EnvironmentVariables = [.. EnvironmentVariables ?? [], "LC_ALL=C"];
        if (Reproducible)
        {
            var prefixMaps = PrefixMaps.Where(m => m.ItemSpec.Length > 0)
                .Select(m => (From: Path.TrimEndingDirectorySeparator(Path.GetFullPath(m.ItemSpec)), To: m.GetMetadata("To") is { Length: > 0 } to ? to : "."));
            EnvironmentVariables = [.. EnvironmentVariables, .. ReproducibleBuild.Environment(SourceDateEpoch, prefixMaps, Environment.GetEnvironmentVariable("KCFLAGS"))];
            Log.LogMessage(MessageImportance.Normal, "Reproducible kbuild: " + string.Join(" ", EnvironmentVariables));
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var succeeded = base.Execute() && !Log.HasLoggedErrors;
        StepLine.Log(Log, Goal == "modules" ? "compile" : "kbuild " + Goal, KernelRelease, succeeded ? null : "failed", watch.Elapsed);
        return succeeded;
    }

    protected override string GenerateCommandLineCommands()
    {
        var command = new CommandLineBuilder();
        command.AppendSwitch("-C");
        command.AppendFileNameIfNotNull(KernelBuildDirectory);
        command.AppendSwitch($"-j{(Jobs > 0 ? Jobs : Environment.ProcessorCount)}");
        command.AppendSwitchIfNotNull("M=", Path.GetFullPath(WorkspaceDirectory));
        command.AppendSwitchIfNotNull("ARCH=", KbuildArch);
        if (!string.IsNullOrEmpty(CrossCompile)) command.AppendSwitchIfNotNull("CROSS_COMPILE=", CrossCompile);
        if (Verbose) command.AppendSwitch("V=1");
        if (ConvertNonExportedSymbols) command.AppendSwitch("KBUILD_MODPOST_WARN=1");
        command.AppendSwitch(Goal);
        return command.ToString();
    }

    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
    {
        if (KbuildOutputParser.IsMakeFailure(singleLine) || singleLine.Contains("No such file or directory", StringComparison.Ordinal))
            _lastMakeFailure ??= singleLine.Trim();
        var diagnostic = _parser!.Parse(singleLine);
        if (diagnostic is not null)
            Log.LogDiagnostic(DiagnosticLogging.ForInnerBuild(diagnostic, BuildEngine));
        else if (!KbuildOutputParser.IsMakeFailure(singleLine) || !_parser.SawError)
            Log.LogMessage(messageImportance, singleLine);
    }

    protected override bool HandleTaskExecutionErrors()
    {
        if (_parser?.SawError == true || Log.HasLoggedErrors) return false;
        var release = DiagnosticLogging.InnerBuildRelease(BuildEngine);
        Log.LogError(null, "KLP2005", null, DiagnosticLogging.HelpLink("KLP2005"), ProjectFile, 0, 0, 0, 0,
            $"{(release is null ? "" : $"[{release}] ")}kbuild failed (make exited with {ExitCode}){(_lastMakeFailure is null ? "" : $": {_lastMakeFailure}")}. Build with -p:KbuildVerbose=true -v:n to see its commands.");
        return false;
    }
}
