namespace Klp.Build.IpaClones;

/// <summary>One function a patch must cover, and why: the chain of clones and inlinings from a patched function.</summary>
public sealed record RequiredFunction(string Name, IReadOnlyList<CallgraphClone> Path, bool OutOfLineBodyRemoved)
{
    public string Reason => Path.Count == 0
        ? "patched function"
        : string.Join(", then ", Path.Select(step => step.IsInlining
            ? $"{step.Original.Name} is inlined into {step.Result.Name}"
            : $"{step.Original.Name} is cloned as {step.Result.Name} ({step.Kind})"));
}

/// <summary>
/// Follows GCC's clone and inlining graph transitively: a function's changed code lives on in every function it
/// was inlined into and every clone made of it (and, again, wherever those were inlined or cloned).
/// </summary>
public static class PatchClosure
{
    public static IReadOnlyList<RequiredFunction> Compute(IpaCloneDump dump, IEnumerable<string> patchedFunctions)
    {
        var edges = dump.Clones.GroupBy(c => c.Original.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var removed = dump.Removals.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var result = new Dictionary<string, RequiredFunction>(StringComparer.Ordinal);
        var queue = new Queue<(string Name, List<CallgraphClone> Path)>();
        foreach (var name in patchedFunctions) queue.Enqueue((name, []));
        while (queue.Count > 0)
        {
            var (name, path) = queue.Dequeue();
            if (result.ContainsKey(name)) continue;
            result[name] = new RequiredFunction(name, path, removed.Contains(name));
            foreach (var edge in edges.GetValueOrDefault(name) ?? [])
                queue.Enqueue((edge.Result.Name, [.. path, edge]));
        }
        return result.Values.ToList();
    }
}
