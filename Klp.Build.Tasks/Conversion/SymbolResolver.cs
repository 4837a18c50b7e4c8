using System.Globalization;
using System.Text;
using Klp.Build.Diagnostics;
using Klp.Build.Symbols;

namespace Klp.Build.Conversion;

/// <summary>What the project said about one symbol, and where it said it.</summary>
internal sealed record Disambiguation(string? Object, int? Position, string Source);

/// <summary>Finds the object and sympos of a symbol in the target's symbol map, explaining every failure.</summary>
internal sealed class SymbolResolver(KernelSymbolMap map, string file, DiagnosticBag diagnostics)
{
    private List<(string Object, string Name)>? _allNames;

    /// <summary>Resolves a plain name, using the project's disambiguation when there is one.</summary>
    public LivepatchTarget? Resolve(string name, Disambiguation? hint)
    {
        if (LivepatchNames.SymbolNameProblem(name) is { } problem)
        {
            diagnostics.Error(ConversionCodes.MalformedName, $"'{name}' cannot be named in a livepatch symbol: {problem}.", file);
            return null;
        }
        var everywhere = map.FindEverywhere(name);
        if (hint?.Object is { } wanted) return InObject(name, wanted, hint.Position, hint.Source, everywhere);

        if (everywhere.Count == 0)
        {
            diagnostics.Error(ConversionCodes.NotFound, NotFoundMessage(name), file);
            return null;
        }
        var objects = everywhere.Select(o => o.Object).Distinct(StringComparer.Ordinal).ToList();
        if (objects.Count > 1)
        {
            var candidates = string.Join("; ", everywhere.Select(o => $"{Describe(o)} → {Lines(o.Object, name, o.Sympos)}"));
            diagnostics.Error(ConversionCodes.SeveralObjects,
                $"'{name}' is defined in {objects.Count} objects ({string.Join(", ", objects)}): say which one the patch means. Candidates: {candidates}.", file);
            return null;
        }
        return InObject(name, objects[0], hint?.Position, hint?.Source, everywhere);
    }

    /// <summary>Checks a target given in full (asm-label declaration, existing .klp.sym symbol).</summary>
    public bool Validate(LivepatchTarget target, string source)
    {
        var resolved = InObject(target.Name, target.Object, target.Position, source, map.FindEverywhere(target.Name));
        return resolved is not null;
    }

    private LivepatchTarget? InObject(string name, string obj, int? position, string? source, IReadOnlyList<SymbolOccurrence> everywhere)
    {
        var from = source is null ? "" : $" (given by {source})";
        if (LivepatchNames.ObjectNameProblem(obj) is { } objectProblem)
        {
            diagnostics.Error(ConversionCodes.MalformedName, $"'{name}'{from}: {objectProblem}; kernel object names have no '.' (use the module name, e.g. 'ext4', not 'ext4.ko').", file);
            return null;
        }
        var mapObject = map.Find(obj);
        if (mapObject is null)
        {
            var modules = map.Objects.Count(o => o.Name != KernelSymbolMap.Vmlinux);
            var elsewhere = everywhere.Select(o => o.Object).Distinct(StringComparer.Ordinal).ToList();
            diagnostics.Error(ConversionCodes.InvalidPosition,
                $"'{name}'{from} is said to be in object '{obj}', which the target's symbol map does not have ({(map.Find(KernelSymbolMap.Vmlinux) is null ? "" : "vmlinux and ")}{modules} modules)" +
                (elsewhere.Count > 0 ? $"; '{name}' is in {string.Join(", ", elsewhere)}." : "."), file);
            return null;
        }
        var occurrences = mapObject.Occurrences(name);
        if (occurrences.Count == 0)
        {
            var elsewhere = everywhere.Select(o => o.Object).Distinct(StringComparer.Ordinal).ToList();
            if (elsewhere.Count > 0)
                diagnostics.Error(ConversionCodes.InvalidPosition, $"'{name}'{from} is not in '{obj}'; it is in {string.Join(", ", elsewhere)}.", file);
            else
                diagnostics.Error(ConversionCodes.NotFound, $"{NotFoundMessage(name, obj)}{from}", file);
            return null;
        }
        var count = occurrences.Count;
        if (position is null)
        {
            if (count == 1) return new LivepatchTarget(obj, name, 0);
            diagnostics.Error(ConversionCodes.Ambiguous,
                $"'{name}' occurs {count} times in {obj}{from}; the kernel cannot tell them apart without a position (sympos, counted from 1 in " +
                $"{(obj == KernelSymbolMap.Vmlinux ? "kallsyms (address)" : "symbol table")} order). Add one of: " +
                string.Join("; ", occurrences.Select(o => $"{Describe(o)} → {Lines(obj, name, o.Position)}")) + ".", file);
            return null;
        }
        var p = position.Value;
        if (p < 0 || p > count)
        {
            diagnostics.Error(ConversionCodes.InvalidPosition,
                $"position {p} of '{name}' in {obj}{from} does not exist: {obj} has {count} symbol{(count == 1 ? "" : "s")} of that name " +
                (count == 1 ? "(use position 0 or 1)." : $"(positions 1 to {count})."), file);
            return null;
        }
        if (p == 0 && count > 1)
        {
            diagnostics.Error(ConversionCodes.InvalidPosition,
                $"position 0 of '{name}' in {obj}{from} means 'the only one', but {obj} has {count} symbols of that name: use a position from 1 to {count} " +
                $"({string.Join("; ", occurrences.Select(Describe))}).", file);
            return null;
        }
        return new LivepatchTarget(obj, name, p);
    }

    /// <summary>The project item and C annotation that pick this occurrence.</summary>
    internal static string Lines(string obj, string name, int position)
    {
        var item = position == 0
            ? $"<KernelSymbol Include=\"{name}\" Object=\"{obj}\" />"
            : $"<KernelSymbol Include=\"{name}\" Object=\"{obj}\" Position=\"{position}\" />";
        return $"{item} or KLP_SYMPOS({name}, {position}) in KLP_MODULE_RELOC({obj})";
    }

    internal static string Describe(SymbolOccurrence o)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{o.Object} position {o.Position}");
        var s = o.Symbol;
        var details = new List<string>();
        if (s.Address != 0) details.Add(string.Create(CultureInfo.InvariantCulture, $"0x{s.Address:x}"));
        if (s.Kind != '?') details.Add(s.Kind.ToString());
        if (s.Section is not null) details.Add(s.Section);
        text.Append(details.Count > 0 ? $" ({string.Join(' ', details)})" : " (address not in the map)");
        return text.ToString();
    }

    private string NotFoundMessage(string name, string? inObject = null)
    {
        var where = inObject is null ? "in no object of the target's symbol map (vmlinux and its modules)" : $"not in '{inObject}'";
        var suggestions = Suggest(name, inObject);
        var text = $"'{name}' is undefined, not exported and {where}: the kernel could not resolve it.";
        if (suggestions.Clones.Count > 0)
            text += $" The target has GCC clone{(suggestions.Clones.Count == 1 ? "" : "s")} of it instead: {string.Join(", ", suggestions.Clones)}" +
                    " (the original was inlined or optimized into a clone whose calling convention may differ: call the clone only if its signature is known to match, or patch its callers).";
        if (suggestions.Near.Count > 0)
            text += $" Did you mean {string.Join(", ", suggestions.Near)}?";
        if (suggestions.Clones.Count == 0 && suggestions.Near.Count == 0)
            text += " Check the name, and that the symbol map was made from the target kernel.";
        return text;
    }

    private (List<string> Clones, List<string> Near) Suggest(string name, string? inObject)
    {
        _allNames ??= map.Objects.SelectMany(o => o.Symbols.Select(s => (o.Name, s.Name))).Distinct().ToList();
        var stem = name.Contains('.') ? name[..name.IndexOf('.')] : name;
        var clones = new List<(string Object, string Name)>();
        var near = new List<(int Distance, string Object, string Name)>();
        var budget = name.Length <= 4 ? 1 : 2;
        foreach (var (obj, candidate) in _allNames)
        {
            if (inObject is not null && obj != inObject) continue;
            if (candidate == name) continue;
            if (candidate.Length > stem.Length && candidate[stem.Length] == '.' && candidate.StartsWith(stem, StringComparison.Ordinal) ||
                candidate == stem && name != stem)
            {
                clones.Add((obj, candidate));
                continue;
            }
            if (Math.Abs(candidate.Length - name.Length) > budget) continue;
            var d = BoundedDistance(name, candidate, budget);
            if (d <= budget) near.Add((d, obj, candidate));
        }
        static int Rank(string obj) => obj == KernelSymbolMap.Vmlinux ? 0 : 1;
        return (
            clones.OrderBy(c => Rank(c.Object)).ThenBy(c => c.Name, StringComparer.Ordinal).ThenBy(c => c.Object, StringComparer.Ordinal)
                .Take(8).Select(c => $"{c.Name} ({c.Object})").ToList(),
            near.OrderBy(n => n.Distance).ThenBy(n => Rank(n.Object)).ThenBy(n => n.Name, StringComparer.Ordinal).ThenBy(n => n.Object, StringComparer.Ordinal)
                .Take(5).Select(n => $"{n.Name} ({n.Object})").ToList());
    }

    /// <summary>Levenshtein distance, or budget + 1 as soon as it must exceed the budget.</summary>
    internal static int BoundedDistance(string a, string b, int budget)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var best = current[0];
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
                best = Math.Min(best, current[j]);
            }
            if (best > budget) return budget + 1;
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
