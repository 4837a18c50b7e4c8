namespace Klp.Build.Dwarf;

/// <summary>One attribute specification of an abbreviation: DW_AT_*, DW_FORM_*, and the DW_FORM_implicit_const value.</summary>
internal readonly record struct DwarfAttributeSpec(ushort Name, ushort Form, long ImplicitConst);

/// <summary>One abbreviation: tag, whether DIEs using it have children, and its attributes (a slice of the table's specs).</summary>
internal readonly record struct DwarfAbbrev(ushort Tag, bool HasChildren, int First, int Count, bool HasSibling)
{
    public bool IsDefined => Tag != 0;
}

/// <summary>
/// An abbreviation table of .debug_abbrev. Codes are usually 1..n in order, so they index an array; any other
/// code goes to a dictionary. Malformed tables throw <see cref="DwarfFormatException"/>.
/// </summary>
internal sealed class DwarfAbbrevTable
{
    private readonly DwarfAbbrev[] _dense;
    private readonly Dictionary<ulong, DwarfAbbrev>? _sparse;

    public DwarfAttributeSpec[] Specs { get; }

    private DwarfAbbrevTable(DwarfAbbrev[] dense, Dictionary<ulong, DwarfAbbrev>? sparse, DwarfAttributeSpec[] specs)
    {
        _dense = dense;
        _sparse = sparse;
        Specs = specs;
    }

    public bool TryGet(ulong code, out DwarfAbbrev abbrev)
    {
        if (code < (ulong)_dense.Length)
        {
            abbrev = _dense[code];
            return abbrev.IsDefined;
        }
        if (_sparse is not null && _sparse.TryGetValue(code, out abbrev)) return true;
        abbrev = default;
        return false;
    }

    public static DwarfAbbrevTable Parse(ReadOnlySpan<byte> section, ulong offset, bool bigEndian)
    {
        var c = new DwarfCursor(section, bigEndian, ".debug_abbrev");
        c.Seek(offset);
        var dense = new List<DwarfAbbrev> { default };
        Dictionary<ulong, DwarfAbbrev>? sparse = null;
        var specs = new List<DwarfAttributeSpec>();
        while (true)
        {
            var code = c.Uleb();
            if (code == 0) break;
            var tag = c.Uleb();
            var children = c.U8();
            if (tag == 0 || tag > ushort.MaxValue)
                throw new DwarfFormatException(DwarfCodes.BadAbbreviation, $".debug_abbrev: abbreviation {code} at offset 0x{c.Position:x} has tag 0x{tag:x}, not a valid DW_TAG");
            var first = specs.Count;
            var sibling = false;
            while (true)
            {
                var name = c.Uleb();
                var form = c.Uleb();
                if (name == 0 && form == 0) break;
                if (name > ushort.MaxValue || form > ushort.MaxValue || form == 0)
                    throw new DwarfFormatException(DwarfCodes.BadAbbreviation, $".debug_abbrev: abbreviation {code} has an attribute 0x{name:x} with form 0x{form:x}, which is not valid");
                var implicitConst = form == DwForm.ImplicitConst ? c.Sleb() : 0;
                if (name == DwAt.Sibling) sibling = true;
                specs.Add(new DwarfAttributeSpec((ushort)name, (ushort)form, implicitConst));
            }
            var abbrev = new DwarfAbbrev((ushort)tag, children != 0, first, specs.Count - first, sibling);
            if (code == (ulong)dense.Count) dense.Add(abbrev);
            else
            {
                sparse ??= [];
                if (code < (ulong)dense.Count && dense[(int)code].IsDefined || !sparse.TryAdd(code, abbrev))
                    throw new DwarfFormatException(DwarfCodes.BadAbbreviation, $".debug_abbrev: abbreviation code {code} is defined twice in the table at offset 0x{offset:x}");
            }
        }
        return new DwarfAbbrevTable(dense.ToArray(), sparse, specs.ToArray());
    }
}
