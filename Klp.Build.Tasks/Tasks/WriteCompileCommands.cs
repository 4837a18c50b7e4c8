using Klp.Build.Diagnostics;
using Klp.Build.EditorSupport;
using Klp.Build.Kbuild;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>
/// Editor support: writes kbuild's compiler commands as compile_commands.json to each of DatabaseFiles and,
/// when ClangdFile is set, the .clangd that lets clangd accept them.
/// </summary>
public sealed class WriteCompileCommands : KlpTask
{
    [Required] public string WorkspaceDirectory { get; set; } = "";
    [Required] public string ProjectDirectory { get; set; } = "";
    [Required] public string KernelBuildDirectory { get; set; } = "";
    [Required] public string[] DatabaseFiles { get; set; } = [];
    public string? ClangdFile { get; set; }

    protected override void Run(DiagnosticBag diagnostics)
    {
        var commands = CompilationDatabase.FromWorkspace(new KbuildWorkspace(WorkspaceDirectory, ProjectDirectory), KernelBuildDirectory);
        var json = CompilationDatabase.ToJson(commands);
        foreach (var file in DatabaseFiles)
            if (AtomicFile.WriteIfChanged(file, json))
                Log.LogMessage(MessageImportance.Normal, $"{file}: {commands.Count} compile command(s)");
        if (!string.IsNullOrEmpty(ClangdFile) && ClangdConfiguration.IsOurs(ClangdFile))
            AtomicFile.WriteIfChanged(ClangdFile, ClangdConfiguration.Text);
    }
}
