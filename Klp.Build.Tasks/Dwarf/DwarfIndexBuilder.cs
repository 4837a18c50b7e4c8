using Klp.Build.Diagnostics;

namespace Klp.Build.Dwarf;

/// <summary>
/// Builds a <see cref="DwarfIndex"/>: units are walked in parallel by <see cref="DwarfUnitIndexer"/>, then merged in
/// unit order (deterministic output) into one sorted string pool and flat row arrays.
/// </summary>
internal static class DwarfIndexBuilder
{
    public static DwarfIndex Build(DwarfSections sections, DiagnosticBag diagnostics, int maxParallelism = -1, CancellationToken cancellationToken = default)
    {
        var problems = new DwarfProblems(diagnostics, sections.Name);
        var file = DwarfFile.Open(sections, problems, maxParallelism);
        var units = file.Units;
        var results = new DwarfUnitIndexer?[units.Length];
        Parallel.For(0, units.Length, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism, CancellationToken = cancellationToken }, i =>
        {
            var unit = units[i];
            if (unit.Broken || unit.RootTag is not (DwTag.CompileUnit or DwTag.PartialUnit or DwTag.SkeletonUnit)) return;
            var indexer = new DwarfUnitIndexer(file, unit);
            try
            {
                indexer.Run();
                results[i] = indexer;
            }
            catch (DwarfFormatException e)
            {
                problems.Error(e.Code, $"{unit}: {e.Message}; the unit is left out of the index");
            }
        });
        problems.Finish();
        return Merge(units, results);
    }

    private static DwarfIndex Merge(DwarfUnit[] units, DwarfUnitIndexer?[] results)
    {
        var pool = new Dictionary<string, int>(StringComparer.Ordinal) { [""] = 0 };
        var strings = new List<string> { "" };
        int Global(string s)
        {
            if (!pool.TryGetValue(s, out var id))
            {
                pool[s] = id = strings.Count;
                strings.Add(s);
            }
            return id;
        }

        int functionCount = 0, parameterCount = 0, inlinedCount = 0, rangeCount = 0;
        foreach (var r in results)
        {
            if (r is null) continue;
            functionCount += r.Functions.Count;
            parameterCount += r.Parameters.Count;
            inlinedCount += r.Inlined.Count;
            rangeCount += r.Ranges.Count;
        }
        var functions = new FunctionRow[functionCount];
        var parameters = new ParameterRow[parameterCount];
        var inlined = new InlinedRow[inlinedCount];
        var ranges = new DwarfAddressRange[rangeCount];
        var unitRows = new UnitRow[units.Length];
        int f = 0, p = 0, n = 0, g = 0;
        for (var u = 0; u < units.Length; u++)
        {
            var r = results[u];
            unitRows[u] = new UnitRow { Offset = units[u].Offset, Version = units[u].Version, Name = Global(units[u].Name), CompDir = Global(units[u].CompDir), Producer = Global(units[u].Producer) };
            if (r is null) continue;
            var map = new int[r.Strings.Count];
            for (var i = 0; i < map.Length; i++) map[i] = Global(r.Strings[i]);
            int functionBase = f, parameterBase = p, rangeBase = g;
            foreach (var row in r.Functions)
            {
                var x = row;
                x.Name = map[row.Name];
                x.LinkageName = map[row.LinkageName];
                x.DeclFile = map[row.DeclFile];
                x.ReturnType = row.ReturnType < 0 ? -1 : map[row.ReturnType];
                x.ParamStart += parameterBase;
                x.ConcreteStart += parameterBase;
                x.RangeStart += rangeBase;
                functions[f++] = x;
            }
            foreach (var row in r.Parameters)
                parameters[p++] = new ParameterRow { Name = map[row.Name], Type = map[row.Type], Flags = row.Flags };
            foreach (var row in r.Inlined)
            {
                var x = row;
                x.Callee = row.Callee < 0 ? -1 : row.Callee + functionBase;
                x.Function = row.Function < 0 ? -1 : row.Function + functionBase;
                x.CallFile = map[row.CallFile];
                x.RangeStart += rangeBase;
                inlined[n++] = x;
            }
            r.Ranges.CopyTo(ranges, g);
            g += r.Ranges.Count;
        }
        ResolveAcrossUnits(functions, inlined);

        // Sort the pool so that string ids order like the strings (ordinal): name lookups become id comparisons.
        var order = new int[strings.Count];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        var array = strings.ToArray();
        Array.Sort(array, order, StringComparer.Ordinal);
        var remap = new int[order.Length];
        for (var i = 0; i < order.Length; i++) remap[order[i]] = i;
        int R(int id) => id < 0 ? 0 : remap[id];
        for (var i = 0; i < functions.Length; i++)
        {
            ref var x = ref functions[i];
            x.Name = R(x.Name);
            x.LinkageName = R(x.LinkageName);
            x.DeclFile = R(x.DeclFile);
            x.ReturnType = R(x.ReturnType);
        }
        for (var i = 0; i < parameters.Length; i++)
        {
            parameters[i].Name = R(parameters[i].Name);
            parameters[i].Type = R(parameters[i].Type);
        }
        for (var i = 0; i < inlined.Length; i++) inlined[i].CallFile = R(inlined[i].CallFile);
        for (var i = 0; i < unitRows.Length; i++)
        {
            unitRows[i].Name = R(unitRows[i].Name);
            unitRows[i].CompDir = R(unitRows[i].CompDir);
            unitRows[i].Producer = R(unitRows[i].Producer);
        }
        return DwarfIndex.Create(DwarfStringPool.FromStrings(array), unitRows, functions, parameters, inlined, ranges);
    }

    /// <summary>Abstract origins in another unit (DW_FORM_ref_addr, LTO and dwz output).</summary>
    private static void ResolveAcrossUnits(FunctionRow[] functions, InlinedRow[] inlined)
    {
        var missing = functions.Any(x => (x.Flags & FunctionFlags.OriginMissing) != 0) || inlined.Any(x => x.Callee < 0 && x.CalleeOffset != 0);
        if (!missing) return;
        var byOffset = new Dictionary<ulong, int>(functions.Length);
        for (var i = 0; i < functions.Length; i++) byOffset.TryAdd(functions[i].Offset, i);
        for (var i = 0; i < functions.Length; i++)
        {
            ref var row = ref functions[i];
            if ((row.Flags & FunctionFlags.OriginMissing) == 0) continue;
            var target = DwarfUnitIndexer.Follow(byOffset, row.Origin, functions);
            if (target >= 0)
            {
                DwarfUnitIndexer.CopyDeclaration(ref row, functions[target], prototype: true);
                row.Flags &= ~FunctionFlags.OriginMissing;
            }
        }
        for (var i = 0; i < inlined.Length; i++)
            if (inlined[i].Callee < 0 && inlined[i].CalleeOffset != 0)
                inlined[i].Callee = DwarfUnitIndexer.Follow(byOffset, inlined[i].CalleeOffset, functions);
    }
}
