using System.Globalization;
using Klp.Build.Diagnostics;

namespace Klp.Build.IpaClones;

/// <summary>A node of GCC's call graph as -fdump-ipa-clones names it: function name, order, source position.</summary>
public sealed record CallgraphNode(string Name, int Order, string File, int Line, int Column);

/// <summary>
/// "Callgraph clone;orig;…;clone;…;kind": for kind "inlining to" the result is the function orig was inlined
/// into; otherwise it is a new function (constprop, isra, part, …) derived from orig.
/// </summary>
public sealed record CallgraphClone(CallgraphNode Original, CallgraphNode Result, string Kind)
{
    public bool IsInlining => Kind == "inlining to";
}

/// <summary>The contents of a &lt;source&gt;.000i.ipa-clones file written by gcc -fdump-ipa-clones.</summary>
public sealed class IpaCloneDump
{
    public List<CallgraphClone> Clones { get; } = [];

    /// <summary>Functions whose out-of-line body GCC removed ("Callgraph removal").</summary>
    public List<CallgraphNode> Removals { get; } = [];

    public static IpaCloneDump Parse(TextReader reader, string name, DiagnosticBag diagnostics)
    {
        var dump = new IpaCloneDump();
        var lineNumber = 0;
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var fields = line.Split(';');
            if (fields[0] == "Callgraph clone" && fields.Length >= 12 && Node(fields, 1) is { } original && Node(fields, 6) is { } clone)
                dump.Clones.Add(new CallgraphClone(original, clone, fields[11]));
            else if (fields[0] == "Callgraph removal" && fields.Length >= 6 && Node(fields, 1) is { } removed)
                dump.Removals.Add(removed);
            else
                diagnostics.Warning(IpaCloneCodes.MalformedDump, $"{name}:{lineNumber}: not a line gcc's -fdump-ipa-clones writes: '{line}'.", name, lineNumber);
        }
        return dump;
    }

    public static IpaCloneDump Load(string path, DiagnosticBag diagnostics)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path, diagnostics);
    }

    private static CallgraphNode? Node(string[] fields, int start) =>
        int.TryParse(fields[start + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var order) &&
        int.TryParse(fields[start + 3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var line) &&
        int.TryParse(fields[start + 4], NumberStyles.Integer, CultureInfo.InvariantCulture, out var column)
            ? new CallgraphNode(fields[start], order, fields[start + 2], line, column)
            : null;
}
