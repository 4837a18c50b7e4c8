using System.Text.Json;
using System.Text.Json.Serialization;

namespace Klp.Build.Diagnostics;

/// <summary>
/// The warnings of one release's inner build of a multi-kernel build, kept in a file so that the outer build can
/// report each distinct warning once across all releases, saying which releases it holds for when not for all.
/// </summary>
public static class ReleaseWarnings
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter<DiagnosticSeverity>() },
    };

    public static void Write(string path, IEnumerable<Diagnostic> warnings)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var list = warnings.ToList();
        AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, list, Options));
    }

    /// <summary>The warnings in a file, or null with a reason when it cannot be read.</summary>
    public static IReadOnlyList<Diagnostic>? Read(string path, out string? problem)
    {
        problem = null;
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize<List<Diagnostic>>(stream, Options) ?? [];
        }
        catch (Exception exception) when (exception is IOException or JsonException or UnauthorizedAccessException)
        {
            problem = exception.Message;
            return null;
        }
    }

    /// <summary>
    /// Each distinct warning (same code, place and message) once, in the order first seen: as it is when every
    /// release has it, else with " (only in R1, R2)" naming the releases that have it.
    /// </summary>
    public static IReadOnlyList<Diagnostic> Merge(IReadOnlyList<string> releases, IReadOnlyList<(string Release, IReadOnlyList<Diagnostic> Warnings)> perRelease)
    {
        var holders = new Dictionary<Diagnostic, List<string>>();
        var order = new List<Diagnostic>();
        foreach (var (release, warnings) in perRelease)
            foreach (var warning in warnings)
            {
                if (!holders.TryGetValue(warning, out var list))
                {
                    holders[warning] = list = [];
                    order.Add(warning);
                }
                if (!list.Contains(release)) list.Add(release);
            }
        return order.Select(warning =>
        {
            var holding = releases.Where(holders[warning].Contains).ToList();
            return holding.Count == releases.Count ? warning : warning with { Message = $"{warning.Message} (only in {string.Join(", ", holding)})" };
        }).ToList();
    }
}
