using System.Text.RegularExpressions;

namespace Klp.Build.Kernels;

/// <summary>Orders release and package version strings by their numbers: 6.1.0-9 before 6.1.0-56.</summary>
public sealed class ReleaseComparer : IComparer<string>
{
    public static readonly ReleaseComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        var a = Numbers(x);
        var b = Numbers(y);
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
            if (a[i] != b[i]) return a[i].CompareTo(b[i]);
        return a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(x, y);
    }

    private static long[] Numbers(string? text) =>
        Regex.Matches(text ?? "", @"\d+").Select(m => long.TryParse(m.Value, out var n) ? n : long.MaxValue).ToArray();
}
