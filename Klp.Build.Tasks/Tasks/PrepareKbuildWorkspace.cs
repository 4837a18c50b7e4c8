using Klp.Build.Diagnostics;
using Klp.Build.Kbuild;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>Mirrors the project's sources into kbuild's module directory and writes its Kbuild file.</summary>
public sealed class PrepareKbuildWorkspace : KlpTask
{
    [Required] public string WorkspaceDirectory { get; set; } = "";
    [Required] public string ProjectDirectory { get; set; } = "";
    [Required] public string ModuleName { get; set; } = "";
    public ITaskItem[] Sources { get; set; } = [];
    public ITaskItem[] Headers { get; set; } = [];
    public string? RegistrationSource { get; set; }
    public string? CFlags { get; set; }

    /// <summary>PerObject packaging: the patch modules (Identity: module name; RegistrationFile), all built by one kbuild run.</summary>
    public ITaskItem[] Modules { get; set; } = [];

    protected override void Run(DiagnosticBag diagnostics)
    {
        var workspace = new KbuildWorkspace(WorkspaceDirectory, ProjectDirectory);
        var flags = (CFlags ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (Modules.Length > 0)
        {
            workspace.Prepare(Modules.Select(m => (m.ItemSpec, (string?)m.GetMetadata("RegistrationFile"))).ToList(),
                Sources.Select(s => s.GetMetadata("FullPath")).ToList(),
                Headers.Select(h => h.GetMetadata("FullPath")).ToList(),
                flags, diagnostics);
            return;
        }
        workspace.Prepare(ModuleName,
            Sources.Select(s => s.GetMetadata("FullPath")).ToList(),
            Headers.Select(h => h.GetMetadata("FullPath")).ToList(),
            string.IsNullOrEmpty(RegistrationSource) ? null : RegistrationSource,
            flags, diagnostics);
    }
}
