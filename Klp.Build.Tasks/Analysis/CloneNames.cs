using System.Text.RegularExpressions;

namespace Klp.Build.Analysis;

/// <summary>
/// GCC's clone names: &lt;base&gt; followed by suffixes ".isra.N" (IPA-SRA), ".constprop.N" (IPA-CP), ".part.N" (partial
/// inlining), ".cold" (hot/cold splitting), in any combination (foo.constprop.0.isra.0, foo.part.0.cold).
/// </summary>
public static partial class CloneNames
{
    [GeneratedRegex(@"\.(isra|constprop|part|cold|lto_priv)(\.\d+)?$")]
    private static partial Regex Suffix();

    /// <summary>The function a clone was made from ("foo" for "foo.constprop.0.isra.0"); the name itself when it is no clone.</summary>
    public static string BaseName(string name)
    {
        while (Suffix().Match(name) is { Success: true } m && m.Index > 0) name = name[..m.Index];
        return name;
    }

    public static bool IsClone(string name) => BaseName(name) != name;

    /// <summary>The kinds of a clone name, outermost last: ["constprop", "isra"] for foo.constprop.0.isra.0.</summary>
    public static IReadOnlyList<string> Kinds(string name)
    {
        var kinds = new List<string>();
        while (Suffix().Match(name) is { Success: true } m && m.Index > 0)
        {
            kinds.Insert(0, m.Groups[1].Value);
            name = name[..m.Index];
        }
        return kinds;
    }
}
