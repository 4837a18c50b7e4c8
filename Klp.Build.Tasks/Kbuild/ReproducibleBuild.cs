using System.Globalization;

namespace Klp.Build.Kbuild;

/// <summary>
/// What makes kbuild's output independent of when, where and by whom it was built
/// (Documentation/kbuild/reproducible-builds.rst): the build timestamp, user and host, and the absolute paths
/// gcc writes into debug info (DW_AT_comp_dir, DW_AT_name, line tables) and __FILE__.
/// </summary>
public static class ReproducibleBuild
{
    public const string User = "klp";
    public const string Host = "klp-build";

    /// <summary>SOURCE_DATE_EPOCH as kbuild's KBUILD_BUILD_TIMESTAMP expects it: what `LC_ALL=C date -u -d @N` prints.</summary>
    public static string Timestamp(long sourceDateEpoch) =>
        DateTimeOffset.FromUnixTimeSeconds(sourceDateEpoch).UtcDateTime.ToString("ddd MMM d HH:mm:ss 'UTC' yyyy", CultureInfo.InvariantCulture);

    public static long ParseEpoch(string? sourceDateEpoch) =>
        long.TryParse(sourceDateEpoch, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? seconds : 0;

    /// <summary>
    /// The variables for make. GCC tries the most recently given map first, so callers list general directories
    /// before the ones nested in them.
    /// </summary>
    public static IReadOnlyList<string> Environment(string? sourceDateEpoch, IEnumerable<(string From, string To)> prefixMaps, string? existingKcflags)
    {
        var epoch = ParseEpoch(sourceDateEpoch);
        var maps = prefixMaps.Select(m => $"-ffile-prefix-map={m.From}={m.To}");
        var kcflags = string.Join(' ', new[] { existingKcflags ?? "" }.Concat(maps).Where(f => f.Length > 0));
        return
        [
            $"SOURCE_DATE_EPOCH={epoch.ToString(CultureInfo.InvariantCulture)}",
            $"KBUILD_BUILD_TIMESTAMP={Timestamp(epoch)}",
            $"KBUILD_BUILD_USER={User}",
            $"KBUILD_BUILD_HOST={Host}",
            $"KCFLAGS={kcflags}",
        ];
    }
}
