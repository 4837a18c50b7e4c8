using Klp.Build.Diagnostics;

namespace Klp.Build.Kernels;

/// <summary>
/// The KernelReleases property of a multi-kernel build: a ';'-separated list of releases and patterns, each
/// resolved to one concrete release (the inner build's KernelRelease). Two entries naming the same release build once.
/// </summary>
public static class KernelReleaseList
{
    public static IReadOnlyList<string> Split(string? releases) =>
        (releases ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static IReadOnlyList<string> Resolve(string? releases, string? kernelDir, Func<string, string> resolveOne, DiagnosticBag diagnostics)
    {
        var entries = Split(releases);
        if (!string.IsNullOrWhiteSpace(kernelDir))
            throw DiagnosticException.Error("KLP6101",
                $"KernelReleases ('{releases}') and KernelDir ('{kernelDir}') are both set: a multi-kernel build fetches each release from Debian's archive; drop KernelDir, or build the tree in KernelDir alone with KernelReleases unset.");
        var resolved = new List<string>();
        var origin = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var release = resolveOne(entry);
            if (origin.TryGetValue(release, out var first))
            {
                diagnostics.Add(new Diagnostic("KLP6102", DiagnosticSeverity.Warning,
                    $"KernelReleases entries '{first}' and '{entry}' both resolve to {release}: it is built once."));
                continue;
            }
            origin[release] = entry;
            resolved.Add(release);
        }
        return resolved;
    }
}
