using Klp.Build.Diagnostics;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>
/// The outer build of a multi-kernel build, after its inner builds: reports each warning the releases' steps
/// deferred (ReleaseWarningsFile) once, naming the releases it holds for when it does not hold for all.
/// </summary>
public sealed class MergeReleaseWarnings : KlpTask
{
    /// <summary>Every release of the build, in order.</summary>
    [Required] public string[] Releases { get; set; } = [];

    /// <summary>The releases' warning files (metadata KernelRelease); a file that does not exist holds none.</summary>
    public ITaskItem[] WarningFiles { get; set; } = [];

    protected override void Run(DiagnosticBag diagnostics)
    {
        var perRelease = new List<(string, IReadOnlyList<Diagnostic>)>();
        foreach (var file in WarningFiles.Where(f => File.Exists(f.ItemSpec)))
        {
            var release = file.GetMetadata("KernelRelease");
            var warnings = ReleaseWarnings.Read(file.ItemSpec, out var problem);
            if (warnings is null)
                Log.LogMessage(MessageImportance.Normal, $"klp: the warnings of {release} in {file.ItemSpec} cannot be read ({problem}); build that release again to see them.");
            else
                perRelease.Add((release, warnings));
        }
        diagnostics.AddRange(ReleaseWarnings.Merge(Releases, perRelease));
    }
}
