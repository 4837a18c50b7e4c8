using Klp.Build.Diagnostics;

namespace Klp.Build.Dwarf;

/// <summary>
/// What a file's DWARF says about its functions: every subprogram (abstract, concrete, clones, declarations), every
/// inlined copy, the producers; with lookups by function name, by inlined callee name and by address. Stored as
/// flat rows over a sorted string pool (see <see cref="DwarfIndexBinary"/> for the cache form); the records
/// returned are made on demand.
/// </summary>
public sealed class DwarfIndex
{
    private readonly DwarfStringPool _strings;
    private readonly UnitRow[] _units;
    private readonly FunctionRow[] _functions;
    private readonly ParameterRow[] _parameters;
    private readonly InlinedRow[] _inlined;
    private readonly DwarfAddressRange[] _ranges;
    private readonly int[] _byName;      // function ids ordered by name id, then id
    private readonly int[] _byCallee;    // inlined ids ordered by callee name id, then id
    private readonly AddressEntry[] _byAddress; // function code ranges ordered by start
    private readonly ulong[] _maxEndBefore;     // running maximum of End over _byAddress
    private readonly DwarfCompileUnit?[] _unitRecords;

    internal readonly record struct AddressEntry(ulong Start, ulong End, int Function);

    private DwarfIndex(DwarfStringPool strings, UnitRow[] units, FunctionRow[] functions, ParameterRow[] parameters, InlinedRow[] inlined,
        DwarfAddressRange[] ranges, int[] byName, int[] byCallee, AddressEntry[] byAddress)
    {
        _strings = strings;
        _units = units;
        _functions = functions;
        _parameters = parameters;
        _inlined = inlined;
        _ranges = ranges;
        _byName = byName;
        _byCallee = byCallee;
        _byAddress = byAddress;
        _maxEndBefore = new ulong[byAddress.Length];
        ulong max = 0;
        for (var i = 0; i < byAddress.Length; i++) _maxEndBefore[i] = max = Math.Max(max, byAddress[i].End);
        _unitRecords = new DwarfCompileUnit?[units.Length];
    }

    /// <summary>Indexes an ELF file's DWARF (vmlinux, a .ko, a .o). Null, with diagnostics, when the file has none or is unreadable.</summary>
    public static DwarfIndex? Build(string path, DiagnosticBag diagnostics, int maxParallelism = -1, CancellationToken cancellationToken = default) =>
        DwarfSections.Load(path, diagnostics) is { } sections ? Build(sections, diagnostics, maxParallelism, cancellationToken) : null;

    /// <summary>Indexes loaded debug sections. Malformed units are reported (KLP40xx) and left out; never throws for bad input.</summary>
    public static DwarfIndex Build(DwarfSections sections, DiagnosticBag diagnostics, int maxParallelism = -1, CancellationToken cancellationToken = default) =>
        DwarfIndexBuilder.Build(sections, diagnostics, maxParallelism, cancellationToken);

    internal static DwarfIndex Create(DwarfStringPool strings, UnitRow[] units, FunctionRow[] functions, ParameterRow[] parameters, InlinedRow[] inlined, DwarfAddressRange[] ranges)
    {
        var byName = new int[functions.Length];
        var nameKeys = new long[functions.Length];
        for (var i = 0; i < functions.Length; i++)
        {
            byName[i] = i;
            nameKeys[i] = ((long)functions[i].Name << 32) | (uint)i;
        }
        Array.Sort(nameKeys, byName);
        var byCallee = new int[inlined.Length];
        var calleeKeys = new long[inlined.Length];
        for (var i = 0; i < inlined.Length; i++)
        {
            byCallee[i] = i;
            var callee = inlined[i].Callee;
            var name = (uint)callee < (uint)functions.Length ? functions[callee].Name : 0;
            calleeKeys[i] = ((long)name << 32) | (uint)i;
        }
        Array.Sort(calleeKeys, byCallee);
        var byAddress = new List<AddressEntry>();
        for (var i = 0; i < functions.Length; i++)
        {
            var f = functions[i];
            for (var r = f.RangeStart; r < f.RangeStart + f.RangeCount; r++) byAddress.Add(new AddressEntry(ranges[r].Start, ranges[r].End, i));
        }
        var addresses = byAddress.ToArray();
        Array.Sort(addresses, (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.Function.CompareTo(b.Function));
        return new DwarfIndex(strings, units, functions, parameters, inlined, ranges, byName, byCallee, addresses);
    }

    internal static DwarfIndex? FromStorage(DwarfStringPool strings, UnitRow[] units, FunctionRow[] functions, ParameterRow[] parameters, InlinedRow[] inlined,
        DwarfAddressRange[] ranges, int[] byName, int[] byCallee, AddressEntry[] byAddress)
    {
        // Every id a row holds must be in range, or a damaged file could make lookups throw later.
        var s = strings.Count;
        bool Str(int id) => (uint)id < (uint)s;
        foreach (var u in units) if (!Str(u.Name) || !Str(u.CompDir) || !Str(u.Producer)) return null;
        foreach (var f in functions)
            if (!Str(f.Name) || !Str(f.LinkageName) || !Str(f.DeclFile) || !Str(f.ReturnType) || (uint)f.Unit >= (uint)units.Length
                || !Slice(f.ParamStart, f.ParamCount, parameters.Length) || f.ConcreteCount >= 0 && !Slice(f.ConcreteStart, f.ConcreteCount, parameters.Length)
                || !Slice(f.RangeStart, f.RangeCount, ranges.Length)) return null;
        foreach (var p in parameters) if (!Str(p.Name) || !Str(p.Type)) return null;
        foreach (var x in inlined)
            if (!Str(x.CallFile) || x.Callee >= functions.Length || x.Function >= functions.Length || (uint)x.Unit >= (uint)units.Length
                || !Slice(x.RangeStart, x.RangeCount, ranges.Length)) return null;
        if (byName.Length != functions.Length || byCallee.Length != inlined.Length) return null;
        foreach (var i in byName) if ((uint)i >= (uint)functions.Length) return null;
        foreach (var i in byCallee) if ((uint)i >= (uint)inlined.Length) return null;
        foreach (var a in byAddress) if ((uint)a.Function >= (uint)functions.Length) return null;
        return new DwarfIndex(strings, units, functions, parameters, inlined, ranges, byName, byCallee, byAddress);
    }

    private static bool Slice(int start, int count, int length) => start >= 0 && count >= 0 && start <= length && count <= length - start;

    internal DwarfStringPool Strings => _strings;
    internal UnitRow[] UnitRows => _units;
    internal FunctionRow[] FunctionRows => _functions;
    internal ParameterRow[] ParameterRows => _parameters;
    internal InlinedRow[] InlinedRows => _inlined;
    internal DwarfAddressRange[] RangeRows => _ranges;
    internal int[] ByName => _byName;
    internal int[] ByCallee => _byCallee;
    internal AddressEntry[] ByAddress => _byAddress;

    public int FunctionCount => _functions.Length;
    public int InlinedCopyCount => _inlined.Length;
    public int CompileUnitCount => _units.Length;

    /// <summary>The distinct DW_AT_producer strings of all compile units (e.g. "GNU C11 12.2.0 -mno-sse ... -O2 ...").</summary>
    public IReadOnlyList<string> Producers => _units.Select(u => _strings[u.Producer]).Where(p => p.Length > 0).Distinct().ToList();

    public IReadOnlyList<DwarfCompileUnit> CompileUnits => Enumerable.Range(0, _units.Length).Select(Unit).ToList();

    public DwarfFunction GetFunction(int id) => MakeFunction(id);

    public DwarfInlinedCopy GetInlinedCopy(int id) => MakeInlined(id);

    /// <summary>All subprograms, in file order.</summary>
    public IEnumerable<DwarfFunction> Functions => Enumerable.Range(0, _functions.Length).Select(MakeFunction);

    /// <summary>Every subprogram DIE named <paramref name="name"/>: abstract, concrete, clones and declarations, in file order.</summary>
    public IReadOnlyList<DwarfFunction> FindFunctions(string name)
    {
        var id = _strings.Find(name);
        if (id <= 0) return [];
        var (from, to) = Range(_byName, i => _functions[i].Name, id);
        var list = new List<DwarfFunction>(to - from);
        for (var k = from; k < to; k++) list.Add(MakeFunction(_byName[k]));
        return list;
    }

    /// <summary>Every inlined copy of a function named <paramref name="calleeName"/>, in file order.</summary>
    public IReadOnlyList<DwarfInlinedCopy> FindInlinedCopies(string calleeName)
    {
        var id = _strings.Find(calleeName);
        if (id <= 0) return [];
        var (from, to) = Range(_byCallee, i => (uint)_inlined[i].Callee < (uint)_functions.Length ? _functions[_inlined[i].Callee].Name : 0, id);
        var list = new List<DwarfInlinedCopy>(to - from);
        for (var k = from; k < to; k++) list.Add(MakeInlined(_byCallee[k]));
        return list;
    }

    /// <summary>The concrete functions whose code covers <paramref name="address"/> (usually one).</summary>
    public IReadOnlyList<DwarfFunction> FindFunctionsContaining(ulong address)
    {
        int lo = 0, hi = _byAddress.Length; // first entry with Start > address
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_byAddress[mid].Start <= address) lo = mid + 1; else hi = mid;
        }
        var found = new List<int>();
        for (var k = lo - 1; k >= 0 && _maxEndBefore[k] > address; k--)
            if (_byAddress[k].End > address && !found.Contains(_byAddress[k].Function)) found.Add(_byAddress[k].Function);
        found.Sort();
        return found.Select(MakeFunction).ToList();
    }

    /// <summary>Inlined copies inside one concrete function.</summary>
    public IReadOnlyList<DwarfInlinedCopy> FindInlinedCopiesIn(int functionId)
    {
        var list = new List<DwarfInlinedCopy>();
        for (var i = 0; i < _inlined.Length; i++)
            if (_inlined[i].Function == functionId) list.Add(MakeInlined(i));
        return list;
    }

    private static (int From, int To) Range(int[] order, Func<int, int> key, int id)
    {
        int lo = 0, hi = order.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (key(order[mid]) < id) lo = mid + 1; else hi = mid;
        }
        var from = lo;
        hi = order.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (key(order[mid]) <= id) lo = mid + 1; else hi = mid;
        }
        return (from, lo);
    }

    private DwarfCompileUnit Unit(int id) =>
        _unitRecords[id] ??= new DwarfCompileUnit(id, _strings[_units[id].Name], _strings[_units[id].CompDir], _strings[_units[id].Producer], _units[id].Version, _units[id].Offset);

    private string? Optional(int id) => id == 0 ? null : _strings[id];

    private DwarfParameter[] Parameters(int start, int count)
    {
        var list = new DwarfParameter[count];
        for (var i = 0; i < count; i++)
        {
            var p = _parameters[start + i];
            list[i] = new DwarfParameter(_strings[p.Name], _strings[p.Type], (p.Flags & ParameterFlags.HasLocation) != 0,
                (p.Flags & ParameterFlags.Constant) != 0, (p.Flags & ParameterFlags.Artificial) != 0);
        }
        return list;
    }

    private DwarfFunction MakeFunction(int id)
    {
        var f = _functions[id];
        return new DwarfFunction(id, _strings[f.Name], Optional(f.LinkageName), Optional(f.DeclFile), f.DeclLine,
            (f.Flags & FunctionFlags.External) != 0, (f.Flags & FunctionFlags.Declaration) != 0, (DwarfInline)f.Inline,
            (f.Flags & FunctionFlags.ConcreteInstance) != 0, _ranges.AsSpan(f.RangeStart, f.RangeCount).ToArray(), Unit(f.Unit),
            f.ReturnType == 0 ? "void" : _strings[f.ReturnType], Parameters(f.ParamStart, f.ParamCount),
            f.ConcreteCount < 0 ? null : Parameters(f.ConcreteStart, f.ConcreteCount), f.Offset, f.Origin);
    }

    private DwarfInlinedCopy MakeInlined(int id)
    {
        var x = _inlined[id];
        var callee = (uint)x.Callee < (uint)_functions.Length ? _strings[_functions[x.Callee].Name] : "";
        var containing = (uint)x.Function < (uint)_functions.Length ? _functions[x.Function] : default;
        return new DwarfInlinedCopy(id, callee, x.Callee, x.CalleeOffset,
            x.Function >= 0 ? _strings[containing.Name] : null, x.Function, x.Function >= 0 ? containing.LowPc : 0,
            Optional(x.CallFile), x.CallLine, x.EntryPc, _ranges.AsSpan(x.RangeStart, x.RangeCount).ToArray(), Unit(x.Unit), x.Offset);
    }
}
