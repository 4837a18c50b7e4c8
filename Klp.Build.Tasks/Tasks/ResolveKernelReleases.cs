using Klp.Build.Diagnostics;
using Klp.Build.Kernels;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Klp.Build.Tasks;

/// <summary>The outer build of a multi-kernel project: KernelReleases (releases and patterns) to concrete releases.</summary>
public sealed class ResolveKernelReleases : KlpTask
{
    public string? KernelReleases { get; set; }
    public string? KernelDir { get; set; }
    public string? CacheDirectory { get; set; }

    /// <summary>False in design-time builds: patterns stay as written, so nothing asks apt or writes to the cache.</summary>
    public bool ResolvePatterns { get; set; } = true;

    [Output] public ITaskItem[] Releases { get; private set; } = [];

    protected override string? StepName => "kernel releases";

    protected override void Run(DiagnosticBag diagnostics)
    {
        var provider = new DebianKernelProvider(new DebianArchive(), KernelCache.At(CacheDirectory));
        var releases = KernelReleaseList.Resolve(KernelReleases, KernelDir, ResolvePatterns ? provider.ResolveRelease : pattern => pattern, diagnostics);
        Releases = releases.Select(r => (ITaskItem)new TaskItem(r)).ToArray();
        StepDetail = string.Join(", ", releases);
    }
}
