using System.Text;

namespace Klp.Build.Dwarf;

/// <summary>
/// Walks one unit's DIEs once and collects its subprograms (with their formal parameters), inlined copies and
/// address ranges into flat rows with unit-local string ids. Subtrees that cannot hold code (types, variables,
/// call sites) are jumped over through DW_AT_sibling when the producer gave one.
/// </summary>
internal sealed class DwarfUnitIndexer
{
    private const byte Root = 0, Subprogram = 1, InlinedFrame = 2, Block = 3, Other = 4;
    private const int MaxDepth = 4096;

    private readonly DwarfFile _file;
    private readonly DwarfUnit _unit;
    private readonly DwarfTypeNames _types;
    private readonly Dictionary<ulong, int> _stringsByLocation = [];
    private readonly Dictionary<string, int> _stringIds = new(StringComparer.Ordinal) { [""] = 0 };
    private readonly List<ParameterRow> _scratch = [];
    private readonly List<DwarfAddressRange> _rangeScratch = [];
    private int[]? _fileIds;

    public List<string> Strings { get; } = [""];
    public List<FunctionRow> Functions { get; } = [];
    public List<ParameterRow> Parameters { get; } = [];
    public List<InlinedRow> Inlined { get; } = [];
    public List<DwarfAddressRange> Ranges { get; } = [];
    public int UnitName, UnitCompDir, UnitProducer;

    private struct Frame
    {
        public byte Kind;
        public int Function;
        public int Containing;
        public int ScratchStart;
    }

    public DwarfUnitIndexer(DwarfFile file, DwarfUnit unit)
    {
        _file = file;
        _unit = unit;
        _types = new DwarfTypeNames(file);
        UnitName = Intern(unit.Name);
        UnitCompDir = Intern(unit.CompDir);
        UnitProducer = Intern(unit.Producer);
    }

    public int Intern(string text)
    {
        if (!_stringIds.TryGetValue(text, out var id))
        {
            _stringIds[text] = id = Strings.Count;
            Strings.Add(text);
        }
        return id;
    }

    private int StringId(in DwarfValue v)
    {
        if (_file.StringLocation(_unit, v) is not { } at) return 0;
        var key = ((ulong)at.Section << 62) | at.Offset;
        if (_stringsByLocation.TryGetValue(key, out var id)) return id;
        id = Intern(Encoding.UTF8.GetString(_file.StringBytes(_unit, at.Section, at.Offset)));
        _stringsByLocation[key] = id;
        return id;
    }

    private int FileId(ulong number)
    {
        var files = _unit.Files;
        if (files is null || number >= (ulong)files.Length) return 0;
        _fileIds ??= new int[files.Length];
        var id = _fileIds[number];
        if (id == 0 && files[number].Length > 0) _fileIds[number] = id = Intern(files[number]);
        return id;
    }

    private int TypeId(ulong reference) => Intern(_types.Render(reference));

    public void Run()
    {
        var c = _file.CursorFor(_unit);
        c.Seek(_unit.FirstDie);
        var frames = new List<Frame>(64);
        var end = (int)_unit.End;
        var abbrevs = _unit.Abbrevs!;
        var first = true;
        while (c.Position < end)
        {
            var at = (ulong)c.Position;
            var code = c.Uleb();
            if (code == 0)
            {
                if (frames.Count == 0) break; // padding after the root
                Pop(frames);
                continue;
            }
            if (!abbrevs.TryGet(code, out var a)) throw _file.BadCode(_unit, code, at);
            if (first)
            {
                first = false;
                DwarfFile.SkipAttributes(ref c, _unit, a);
                if (a.HasChildren) frames.Add(new Frame { Kind = Root, Function = -1, Containing = -1 });
                continue;
            }
            if (frames.Count == 0) break; // a second top-level DIE: not valid DWARF, stop here
            if (frames.Count > MaxDepth) throw new DwarfFormatException(DwarfCodes.MalformedUnit, $"DIEs nest more than {MaxDepth} levels deep at 0x{at:x}");
            var top = frames[^1];
            switch (a.Tag)
            {
                case DwTag.Subprogram:
                {
                    var d = new DieAttributes();
                    _file.ReadAttributes(ref c, _unit, a, ref d);
                    var row = AddFunction(at, ref d);
                    if (a.HasChildren)
                        frames.Add(new Frame
                        {
                            Kind = Subprogram, Function = row, ScratchStart = _scratch.Count,
                            Containing = (Functions[row].Flags & FunctionFlags.HasCode) != 0 ? row : top.Containing,
                        });
                    break;
                }
                case DwTag.InlinedSubroutine:
                {
                    var d = new DieAttributes();
                    _file.ReadAttributes(ref c, _unit, a, ref d);
                    AddInlined(at, ref d, top.Containing);
                    if (a.HasChildren) frames.Add(new Frame { Kind = InlinedFrame, Function = -1, Containing = top.Containing });
                    break;
                }
                case DwTag.FormalParameter when top.Kind == Subprogram:
                {
                    var d = new DieAttributes();
                    _file.ReadAttributes(ref c, _unit, a, ref d);
                    _scratch.Add(Parameter(ref d));
                    if (a.HasChildren) frames.Add(new Frame { Kind = Other, Function = -1, Containing = top.Containing });
                    break;
                }
                case DwTag.UnspecifiedParameters when top.Kind == Subprogram:
                    DwarfFile.SkipAttributes(ref c, _unit, a);
                    _scratch.Add(new ParameterRow { Name = 0, Type = Intern("..."), Flags = ParameterFlags.Variadic });
                    if (a.HasChildren) frames.Add(new Frame { Kind = Other, Function = -1, Containing = top.Containing });
                    break;
                case DwTag.LexicalBlock:
                    DwarfFile.SkipAttributes(ref c, _unit, a);
                    if (a.HasChildren) frames.Add(new Frame { Kind = Block, Function = -1, Containing = top.Containing });
                    break;
                default:
                    if (a.HasChildren && a.HasSibling)
                    {
                        var d = new DieAttributes();
                        _file.ReadAttributes(ref c, _unit, a, ref d);
                        var sibling = d.Sibling & ~DwarfFile.TypesSectionBit;
                        if (sibling > (ulong)c.Position && sibling <= _unit.End)
                        {
                            c.Seek(sibling);
                            break;
                        }
                    }
                    else DwarfFile.SkipAttributes(ref c, _unit, a);
                    if (a.HasChildren) frames.Add(new Frame { Kind = Other, Function = -1, Containing = top.Containing });
                    break;
            }
        }
        while (frames.Count > 0) Pop(frames);
        ResolveOrigins();
    }

    private void Pop(List<Frame> frames)
    {
        var frame = frames[^1];
        frames.RemoveAt(frames.Count - 1);
        if (frame.Kind != Subprogram) return;
        var count = _scratch.Count - frame.ScratchStart;
        var row = Functions[frame.Function];
        row.ParamStart = Parameters.Count;
        row.ParamCount = count;
        for (var i = frame.ScratchStart; i < _scratch.Count; i++) Parameters.Add(_scratch[i]);
        _scratch.RemoveRange(frame.ScratchStart, count);
        Functions[frame.Function] = row;
    }

    private int AddFunction(ulong at, ref DieAttributes d)
    {
        var row = new FunctionRow
        {
            Offset = at, Origin = d.AbstractOrigin, Specification = d.Specification, Unit = _unit.Index,
            Name = d.HasName ? StringId(d.Name) : 0,
            LinkageName = d.HasLinkageName ? StringId(d.LinkageName) : 0,
            DeclFile = d.HasDeclFile ? FileId(d.DeclFile) : 0,
            DeclLine = (int)Math.Min(d.DeclLine, int.MaxValue),
            Inline = d.HasInline ? d.Inline : (byte)DwarfInline.None,
            ReturnType = d.Type != 0 || d.AbstractOrigin == 0 && d.Specification == 0 ? TypeId(d.Type) : -1,
            ParamStart = 0, ParamCount = 0, ConcreteStart = 0, ConcreteCount = -1,
        };
        if (d.External) row.Flags |= FunctionFlags.External;
        if (d.Declaration) row.Flags |= FunctionFlags.Declaration;
        if (d.Artificial) row.Flags |= FunctionFlags.Artificial;
        if (d.Prototyped) row.Flags |= FunctionFlags.Prototyped;
        if (d.AbstractOrigin != 0) row.Flags |= FunctionFlags.ConcreteInstance;
        _rangeScratch.Clear();
        DwarfRanges.Read(_file, _unit, d, _rangeScratch);
        row.RangeStart = Ranges.Count;
        row.RangeCount = _rangeScratch.Count;
        if (_rangeScratch.Count > 0)
        {
            row.Flags |= FunctionFlags.HasCode;
            row.LowPc = ulong.MaxValue;
            foreach (var r in _rangeScratch) row.LowPc = Math.Min(row.LowPc, r.Start);
            Ranges.AddRange(_rangeScratch);
        }
        Functions.Add(row);
        return Functions.Count - 1;
    }

    private void AddInlined(ulong at, ref DieAttributes d, int containing)
    {
        _rangeScratch.Clear();
        DwarfRanges.Read(_file, _unit, d, _rangeScratch);
        var entry = d.HasEntryPc
            ? d.EntryPc.IsConstantClass ? (_rangeScratch.Count > 0 ? _rangeScratch[0].Start : 0) + d.EntryPc.U : _file.Address(_unit, d.EntryPc)
            : d.HasLowPc ? _file.Address(_unit, d.LowPc) : _rangeScratch.Count > 0 ? _rangeScratch.Min(r => r.Start) : 0;
        Inlined.Add(new InlinedRow
        {
            Offset = at, CalleeOffset = d.AbstractOrigin, EntryPc = entry, Callee = -1, Function = containing,
            CallFile = d.HasCallFile ? FileId(d.CallFile) : 0, CallLine = (int)Math.Min(d.CallLine, int.MaxValue),
            RangeStart = Ranges.Count, RangeCount = _rangeScratch.Count, Unit = _unit.Index,
        });
        Ranges.AddRange(_rangeScratch);
    }

    private ParameterRow Parameter(ref DieAttributes d)
    {
        var name = d.HasName ? StringId(d.Name) : 0;
        var type = d.Type;
        var flags = ParameterFlags.None;
        if (d.HasLocation) flags |= ParameterFlags.HasLocation;
        if (d.HasConstValue) flags |= ParameterFlags.Constant;
        if (d.Artificial) flags |= ParameterFlags.Artificial;
        var origin = d.AbstractOrigin;
        for (var hop = 0; origin != 0 && (name == 0 || type == 0) && hop < 8; hop++)
        {
            if (!_types.TryRead(origin, out var unit, out _, out _, out var o, out _)) break;
            if (name == 0 && o.HasName) name = unit == _unit ? StringId(o.Name) : Intern(_file.String(unit, o.Name) ?? "");
            if (type == 0) type = o.Type;
            if (o.Artificial) flags |= ParameterFlags.Artificial;
            origin = o.AbstractOrigin;
        }
        return new ParameterRow { Name = name, Type = TypeId(type), Flags = flags };
    }

    /// <summary>Concrete instances take name, declaration, prototype and return type from their abstract origin.</summary>
    private void ResolveOrigins()
    {
        var byOffset = new Dictionary<ulong, int>(Functions.Count);
        for (var i = 0; i < Functions.Count; i++) byOffset[Functions[i].Offset] = i;
        var rows = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Functions);
        for (var i = 0; i < rows.Length; i++)
        {
            ref var row = ref rows[i];
            if (row.Origin == 0)
            {
                if ((row.Flags & FunctionFlags.HasCode) != 0)
                {
                    row.ConcreteStart = row.ParamStart;
                    row.ConcreteCount = row.ParamCount;
                }
            }
            else
            {
                row.ConcreteStart = row.ParamStart;
                row.ConcreteCount = row.ParamCount;
                var target = Follow(byOffset, row.Origin, rows);
                if (target < 0)
                {
                    row.Flags |= FunctionFlags.OriginMissing; // resolved across units by the merge, if it can be
                    continue;
                }
                CopyDeclaration(ref row, rows[target], prototype: true);
            }
            if (row.Specification != 0 && byOffset.TryGetValue(row.Specification, out var spec))
                CopyDeclaration(ref row, rows[spec], prototype: false);
            if (row.ReturnType < 0) row.ReturnType = 0;
        }
        var inlined = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Inlined);
        for (var i = 0; i < inlined.Length; i++)
            if (inlined[i].CalleeOffset != 0)
                inlined[i].Callee = Follow(byOffset, inlined[i].CalleeOffset, rows);
    }

    /// <summary>The end of an abstract-origin chain starting at a DIE offset, or -1.</summary>
    internal static int Follow(Dictionary<ulong, int> byOffset, ulong origin, ReadOnlySpan<FunctionRow> rows)
    {
        var target = -1;
        for (var hop = 0; origin != 0 && hop < 16; hop++)
        {
            if (!byOffset.TryGetValue(origin, out var next)) return target >= 0 && hop > 0 ? target : -1;
            target = next;
            origin = rows[next].Origin;
        }
        return target;
    }

    internal static void CopyDeclaration(ref FunctionRow row, in FunctionRow from, bool prototype)
    {
        if (row.Name == 0) row.Name = from.Name;
        if (row.LinkageName == 0) row.LinkageName = from.LinkageName;
        if (row.DeclFile == 0)
        {
            row.DeclFile = from.DeclFile;
            row.DeclLine = from.DeclLine;
        }
        if ((from.Flags & FunctionFlags.External) != 0) row.Flags |= FunctionFlags.External;
        if (row.ReturnType < 0 || row.ReturnType == 0 && from.ReturnType > 0) row.ReturnType = from.ReturnType;
        if (prototype)
        {
            row.ParamStart = from.ParamStart;
            row.ParamCount = from.ParamCount;
        }
    }
}
