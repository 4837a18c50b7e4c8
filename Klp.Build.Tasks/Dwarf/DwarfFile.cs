using System.Collections.Concurrent;
using System.Text;
using Klp.Build.Diagnostics;

namespace Klp.Build.Dwarf;

/// <summary>
/// The units of one file's DWARF (versions 2 to 5, 32- and 64-bit DWARF, .debug_info and .debug_types), with
/// attribute decoding for every form gcc and clang emit. Opening scans the unit headers and prepares every unit
/// (abbreviations, root DIE, line table file names) in parallel; malformed units are reported and skipped.
/// DIE references are section offsets, with <see cref="TypesSectionBit"/> set for .debug_types.
/// </summary>
internal sealed class DwarfFile
{
    public const ulong TypesSectionBit = 1UL << 63;

    private readonly Dictionary<ulong, ulong> _signatures = [];

    public DwarfSections Sections { get; }
    public DwarfProblems Problems { get; }
    public DwarfUnit[] Units { get; private set; } = [];
    public DwarfUnit[] TypeUnits { get; private set; } = [];
    public bool BigEndian => Sections.IsBigEndian;

    private DwarfFile(DwarfSections sections, DwarfProblems problems)
    {
        Sections = sections;
        Problems = problems;
    }

    public static DwarfFile Open(DwarfSections sections, DiagnosticBag diagnostics, int maxParallelism = -1) =>
        Open(sections, new DwarfProblems(diagnostics, sections.Name), maxParallelism);

    public static DwarfFile Open(DwarfSections sections, DwarfProblems problems, int maxParallelism = -1)
    {
        var file = new DwarfFile(sections, problems);
        file.Units = file.ScanHeaders(sections.Info.Span, inTypes: false);
        if (!sections.Types.IsEmpty) file.TypeUnits = file.ScanHeaders(sections.Types.Span, inTypes: true);
        var abbrevs = new ConcurrentDictionary<ulong, Lazy<DwarfAbbrevTable?>>();
        var all = file.Units.Concat(file.TypeUnits).ToArray();
        Parallel.ForEach(all, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism }, unit => file.Prepare(unit, abbrevs));
        foreach (var unit in all)
            if (!unit.Broken && (unit.InTypesSection || unit.UnitType is DwUt.Type or DwUt.SplitType))
                file._signatures.TryAdd(unit.TypeSignature, Ref(unit, unit.Offset + unit.TypeOffset));
        return file;
    }

    private static ulong Ref(DwarfUnit unit, ulong offset) => unit.InTypesSection ? offset | TypesSectionBit : offset;

    public ReadOnlySpan<byte> SectionOf(DwarfUnit unit) => unit.InTypesSection ? Sections.Types.Span : Sections.Info.Span;

    public DwarfCursor CursorFor(DwarfUnit unit) => new(SectionOf(unit), BigEndian, unit.InTypesSection ? ".debug_types" : ".debug_info");

    private DwarfUnit[] ScanHeaders(ReadOnlySpan<byte> section, bool inTypes)
    {
        var name = inTypes ? ".debug_types" : ".debug_info";
        var units = new List<DwarfUnit>();
        var c = new DwarfCursor(section, BigEndian, name);
        while (c.Remaining > 0)
        {
            var start = (ulong)c.Position;
            try
            {
                ulong length = c.U32();
                var offsetSize = 4;
                if (length == 0xffffffff)
                {
                    length = c.U64();
                    offsetSize = 8;
                }
                else if (length >= 0xfffffff0)
                {
                    throw new DwarfFormatException(DwarfCodes.MalformedUnit, $"{name}: the unit at 0x{start:x} has a reserved length 0x{length:x}");
                }
                if (length > (ulong)c.Remaining)
                    throw new DwarfFormatException(DwarfCodes.MalformedUnit, $"{name}: the unit at 0x{start:x} is 0x{length:x} bytes long, past the end of the section (size 0x{section.Length:x})");
                var end = (ulong)c.Position + length;
                try
                {
                    var unit = ReadHeader(ref c, start, end, offsetSize, inTypes, units.Count, name);
                    if (unit is not null) units.Add(unit);
                }
                catch (DwarfFormatException e)
                {
                    Problems.Error(e.Code, e.Message);
                }
                c.Seek(end);
            }
            catch (DwarfFormatException e)
            {
                Problems.Error(DwarfCodes.MalformedUnit, e.Message + "; the units after it are not read");
                break;
            }
        }
        return units.ToArray();
    }

    private DwarfUnit? ReadHeader(ref DwarfCursor c, ulong start, ulong end, int offsetSize, bool inTypes, int index, string name)
    {
        var version = c.U16();
        if (version is < 2 or > 5)
        {
            Problems.Error(DwarfCodes.MalformedUnit, $"{name}: the unit at 0x{start:x} has DWARF version {version}; this reader knows versions 2 to 5");
            return null;
        }
        byte unitType = inTypes ? DwUt.Type : DwUt.Compile;
        int addressSize;
        ulong abbrevOffset, signature = 0, typeOffset = 0;
        if (version >= 5)
        {
            unitType = c.U8();
            addressSize = c.U8();
            abbrevOffset = c.Sized(offsetSize);
            switch (unitType)
            {
                case DwUt.Type or DwUt.SplitType:
                    signature = c.U64();
                    typeOffset = c.Sized(offsetSize);
                    break;
                case DwUt.Skeleton or DwUt.SplitCompile:
                    c.U64();
                    break;
                case DwUt.Compile or DwUt.Partial:
                    break;
                default:
                    Problems.Error(DwarfCodes.MalformedUnit, $"{name}: the unit at 0x{start:x} has unknown unit type 0x{unitType:x}");
                    return null;
            }
        }
        else
        {
            abbrevOffset = c.Sized(offsetSize);
            addressSize = c.U8();
            if (inTypes)
            {
                signature = c.U64();
                typeOffset = c.Sized(offsetSize);
            }
        }
        if (addressSize is not (2 or 4 or 8))
        {
            Problems.Error(DwarfCodes.MalformedUnit, $"{name}: the unit at 0x{start:x} has address size {addressSize}");
            return null;
        }
        if ((ulong)c.Position > end)
        {
            Problems.Error(DwarfCodes.MalformedUnit, $"{name}: the header of the unit at 0x{start:x} is longer than the unit");
            return null;
        }
        if (abbrevOffset >= (ulong)Sections.Abbrev.Length)
        {
            Problems.Error(DwarfCodes.OffsetOutOfRange, $"{name}: the unit at 0x{start:x} uses abbreviations at 0x{abbrevOffset:x}, outside .debug_abbrev (size 0x{Sections.Abbrev.Length:x})");
            return null;
        }
        return new DwarfUnit
        {
            Index = index, InTypesSection = inTypes, Offset = start, End = end, FirstDie = (ulong)c.Position,
            Version = version, UnitType = unitType, AddressSize = addressSize, OffsetSize = offsetSize,
            AbbrevOffset = abbrevOffset, TypeSignature = signature, TypeOffset = typeOffset,
        };
    }

    private void Prepare(DwarfUnit unit, ConcurrentDictionary<ulong, Lazy<DwarfAbbrevTable?>> cache)
    {
        var abbrevs = cache.GetOrAdd(unit.AbbrevOffset, offset => new Lazy<DwarfAbbrevTable?>(() =>
        {
            try
            {
                return DwarfAbbrevTable.Parse(Sections.Abbrev.Span, offset, BigEndian);
            }
            catch (DwarfFormatException e)
            {
                Problems.Error(DwarfCodes.BadAbbreviation, $"{e.Message} (abbreviation table at 0x{offset:x})");
                return null;
            }
        })).Value;
        if (abbrevs is null)
        {
            unit.Broken = true;
            return;
        }
        unit.Abbrevs = abbrevs;
        try
        {
            var c = CursorFor(unit);
            c.Seek(unit.FirstDie);
            if (unit.FirstDie >= unit.End) throw new DwarfFormatException(DwarfCodes.MalformedUnit, "the unit has no root DIE");
            var code = c.Uleb();
            if (!abbrevs.TryGet(code, out var abbrev)) throw BadCode(unit, code, unit.FirstDie);
            unit.RootTag = abbrev.Tag;
            var d = new DieAttributes();
            ReadAttributes(ref c, unit, abbrev, ref d);
            if (d.HasStrOffsetsBase) unit.StrOffsetsBase = d.StrOffsetsBase;
            if (d.HasAddrBase) unit.AddrBase = d.AddrBase;
            if (d.HasRnglistsBase) unit.RnglistsBase = d.RnglistsBase;
            if (d.HasLowPc) unit.BaseAddress = Address(unit, d.LowPc);
            if (d.HasStmtList) unit.StmtList = d.StmtList;
            unit.Name = d.HasName ? String(unit, d.Name) ?? "" : "";
            unit.CompDir = d.HasCompDir ? String(unit, d.CompDir) ?? "" : "";
            unit.Producer = d.HasProducer ? String(unit, d.Producer) ?? "" : "";
        }
        catch (DwarfFormatException e)
        {
            unit.Broken = true;
            Problems.Error(e.Code, $"{unit}: {e.Message}");
            return;
        }
        if (unit.StmtList is { } stmt && !Sections.Line.IsEmpty)
        {
            try
            {
                unit.Files = DwarfLineTable.ReadFileNames(this, unit, stmt);
            }
            catch (DwarfFormatException e)
            {
                Problems.Warning(DwarfCodes.MalformedLineTable, $"{unit}: line table at 0x{stmt:x}: {e.Message}");
            }
        }
    }

    public DwarfFormatException BadCode(DwarfUnit unit, ulong code, ulong at) =>
        new(DwarfCodes.BadAbbreviation, $"the DIE at 0x{at:x} uses abbreviation code {code}, which the unit's abbreviation table (at 0x{unit.AbbrevOffset:x}) does not define");

    /// <summary>The unit holding a DIE reference, or null when it points outside every unit.</summary>
    public DwarfUnit? FindUnit(ulong reference)
    {
        var units = (reference & TypesSectionBit) != 0 ? TypeUnits : Units;
        var offset = reference & ~TypesSectionBit;
        int lo = 0, hi = units.Length - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >> 1;
            if (units[mid].End <= offset) lo = mid + 1;
            else if (units[mid].Offset > offset) hi = mid - 1;
            else return units[mid].Contains(offset) && !units[mid].Broken ? units[mid] : null;
        }
        return null;
    }

    /// <summary>Reads one attribute value, resolving DW_FORM_indirect.</summary>
    public static DwarfValue ReadValue(ref DwarfCursor c, DwarfUnit u, ushort form, long implicitConst)
    {
        DwarfValue v = default;
        v.Form = form;
        v.Length = 0;
        switch (form)
        {
            case DwForm.Addr: v.U = c.Sized(u.AddressSize); break;
            case DwForm.Data1 or DwForm.Ref1 or DwForm.Flag or DwForm.Strx1 or DwForm.Addrx1: v.U = c.U8(); break;
            case DwForm.Data2 or DwForm.Ref2 or DwForm.Strx2 or DwForm.Addrx2: v.U = c.U16(); break;
            case DwForm.Strx3 or DwForm.Addrx3: v.U = c.U24(); break;
            case DwForm.Data4 or DwForm.Ref4 or DwForm.Strx4 or DwForm.Addrx4 or DwForm.RefSup4: v.U = c.U32(); break;
            case DwForm.Data8 or DwForm.Ref8 or DwForm.RefSig8 or DwForm.RefSup8: v.U = c.U64(); break;
            case DwForm.Data16:
                v.U = (ulong)c.Position;
                v.Length = 16;
                c.Skip(16);
                break;
            case DwForm.Sdata: v.U = (ulong)c.Sleb(); break;
            case DwForm.Udata or DwForm.RefUdata or DwForm.Strx or DwForm.Addrx or DwForm.Loclistx or DwForm.Rnglistx
                or DwForm.GnuAddrIndex or DwForm.GnuStrIndex:
                v.U = c.Uleb();
                break;
            case DwForm.Strp or DwForm.LineStrp or DwForm.SecOffset or DwForm.StrpSup or DwForm.GnuRefAlt or DwForm.GnuStrpAlt:
                v.U = c.Sized(u.OffsetSize);
                break;
            case DwForm.RefAddr: v.U = c.Sized(u.Version <= 2 ? u.AddressSize : u.OffsetSize); break;
            case DwForm.String:
                v.U = (ulong)c.SkipCString();
                break;
            case DwForm.FlagPresent: v.U = 1; break;
            case DwForm.ImplicitConst: v.U = (ulong)implicitConst; break;
            case DwForm.Block1: Block(ref c, ref v, c.U8()); break;
            case DwForm.Block2: Block(ref c, ref v, c.U16()); break;
            case DwForm.Block4: Block(ref c, ref v, c.U32()); break;
            case DwForm.Block or DwForm.Exprloc: Block(ref c, ref v, c.Uleb()); break;
            case DwForm.Indirect:
                var actual = c.Uleb();
                if (actual == DwForm.Indirect || actual > ushort.MaxValue)
                    throw new DwarfFormatException(DwarfCodes.UnknownForm, $"DW_FORM_indirect at 0x{c.Position:x} names form 0x{actual:x}");
                return ReadValue(ref c, u, (ushort)actual, implicitConst);
            default:
                throw new DwarfFormatException(DwarfCodes.UnknownForm, $"an attribute before offset 0x{c.Position:x} uses form 0x{form:x}, which this reader does not know");
        }
        return v;
    }

    private static void Block(ref DwarfCursor c, ref DwarfValue v, ulong length)
    {
        v.U = (ulong)c.Position;
        c.Skip(length);
        v.Length = (int)length;
    }

    /// <summary>Skips a DIE's attributes.</summary>
    public static void SkipAttributes(ref DwarfCursor c, DwarfUnit u, in DwarfAbbrev a)
    {
        var specs = u.Abbrevs!.Specs;
        for (var i = a.First; i < a.First + a.Count; i++)
        {
            var s = specs[i];
            switch (s.Form)
            {
                case DwForm.FlagPresent or DwForm.ImplicitConst: break;
                case DwForm.Data1 or DwForm.Ref1 or DwForm.Flag or DwForm.Strx1 or DwForm.Addrx1: c.Skip(1); break;
                case DwForm.Data2 or DwForm.Ref2 or DwForm.Strx2 or DwForm.Addrx2: c.Skip(2); break;
                case DwForm.Data4 or DwForm.Ref4 or DwForm.Strx4 or DwForm.Addrx4: c.Skip(4); break;
                case DwForm.Data8 or DwForm.Ref8 or DwForm.RefSig8: c.Skip(8); break;
                case DwForm.Strp or DwForm.LineStrp or DwForm.SecOffset: c.Skip((ulong)u.OffsetSize); break;
                case DwForm.Udata or DwForm.Sdata or DwForm.RefUdata or DwForm.Strx or DwForm.Addrx or DwForm.Rnglistx or DwForm.Loclistx: c.Uleb(); break;
                case DwForm.Exprloc or DwForm.Block: c.Skip(c.Uleb()); break;
                default: ReadValue(ref c, u, s.Form, s.ImplicitConst); break;
            }
        }
    }

    /// <summary>Reads a DIE's attributes, keeping those the index uses.</summary>
    public void ReadAttributes(ref DwarfCursor c, DwarfUnit u, in DwarfAbbrev a, ref DieAttributes d)
    {
        var specs = u.Abbrevs!.Specs;
        for (var i = a.First; i < a.First + a.Count; i++)
        {
            var s = specs[i];
            var v = ReadValue(ref c, u, s.Form, s.ImplicitConst);
            switch (s.Name)
            {
                case DwAt.Name: d.Name = v; d.HasName = true; break;
                case DwAt.LinkageName or DwAt.MipsLinkageName: d.LinkageName = v; d.HasLinkageName = true; break;
                case DwAt.Type: d.Type = Reference(u, v); break;
                case DwAt.AbstractOrigin: d.AbstractOrigin = Reference(u, v); break;
                case DwAt.Specification: d.Specification = Reference(u, v); break;
                case DwAt.Sibling: d.Sibling = Reference(u, v); break;
                case DwAt.DeclFile: d.DeclFile = v.U; d.HasDeclFile = true; break;
                case DwAt.DeclLine: d.DeclLine = v.U; break;
                case DwAt.CallFile: d.CallFile = v.U; d.HasCallFile = true; break;
                case DwAt.CallLine: d.CallLine = v.U; break;
                case DwAt.External: d.External = v.U != 0; break;
                case DwAt.Declaration: d.Declaration = v.U != 0; break;
                case DwAt.Artificial: d.Artificial = v.U != 0; break;
                case DwAt.Prototyped: d.Prototyped = v.U != 0; break;
                case DwAt.Inline: d.Inline = (byte)v.U; d.HasInline = true; break;
                case DwAt.LowPc: d.LowPc = v; d.HasLowPc = true; break;
                case DwAt.HighPc: d.HighPc = v; d.HasHighPc = true; break;
                case DwAt.Ranges: d.Ranges = v; d.HasRanges = true; break;
                case DwAt.EntryPc: d.EntryPc = v; d.HasEntryPc = true; break;
                case DwAt.Location: d.HasLocation = true; break;
                case DwAt.ConstValue: d.HasConstValue = true; break;
                case DwAt.UpperBound: d.UpperBound = v.U; d.HasUpperBound = true; break;
                case DwAt.Count: d.Count = v.U; d.HasCount = true; break;
                case DwAt.Producer: d.Producer = v; d.HasProducer = true; break;
                case DwAt.CompDir: d.CompDir = v; d.HasCompDir = true; break;
                case DwAt.StmtList: d.StmtList = v.U; d.HasStmtList = true; break;
                case DwAt.StrOffsetsBase: d.StrOffsetsBase = v.U; d.HasStrOffsetsBase = true; break;
                case DwAt.AddrBase or DwAt.GnuAddrBase: d.AddrBase = v.U; d.HasAddrBase = true; break;
                case DwAt.RnglistsBase: d.RnglistsBase = v.U; d.HasRnglistsBase = true; break;
            }
        }
    }

    /// <summary>A reference attribute as a DIE reference (0 when it cannot be followed: supplementary files, unknown signatures).</summary>
    public ulong Reference(DwarfUnit u, in DwarfValue v)
    {
        switch (v.Form)
        {
            case DwForm.Ref1 or DwForm.Ref2 or DwForm.Ref4 or DwForm.Ref8 or DwForm.RefUdata:
                var target = u.Offset + v.U;
                if (v.U >= u.End - u.Offset)
                    throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange, $"a reference (0x{v.U:x} in the unit) points past the end of its unit");
                return Ref(u, target);
            case DwForm.RefAddr:
                if (v.U >= (ulong)Sections.Info.Length)
                    throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange, $"a DW_FORM_ref_addr reference 0x{v.U:x} points outside .debug_info (size 0x{Sections.Info.Length:x})");
                return v.U;
            case DwForm.RefSig8:
                return _signatures.TryGetValue(v.U, out var r) ? r : 0;
            default:
                return 0;
        }
    }

    /// <summary>An address attribute's value (DW_FORM_addr, or an index into .debug_addr).</summary>
    public ulong Address(DwarfUnit u, in DwarfValue v) => v.Form switch
    {
        DwForm.Addrx or DwForm.Addrx1 or DwForm.Addrx2 or DwForm.Addrx3 or DwForm.Addrx4 or DwForm.GnuAddrIndex => IndexedAddress(u, v.U),
        _ => v.U,
    };

    public ulong IndexedAddress(DwarfUnit u, ulong index)
    {
        var c = new DwarfCursor(Sections.Addr.Span, BigEndian, ".debug_addr");
        var at = u.AddrBase + index * (ulong)u.AddressSize;
        if (index > int.MaxValue || at > (ulong)c.Length)
            throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange, $"address index {index} (base 0x{u.AddrBase:x}) is outside .debug_addr (size 0x{c.Length:x})");
        c.Seek(at);
        return c.Sized(u.AddressSize);
    }

    /// <summary>Where a string attribute's bytes are: 0 .debug_info/.debug_types (inline), 1 .debug_str, 2 .debug_line_str; and the offset.</summary>
    public (int Section, ulong Offset)? StringLocation(DwarfUnit u, in DwarfValue v)
    {
        switch (v.Form)
        {
            case DwForm.String: return (0, v.U);
            case DwForm.Strp: return (1, v.U);
            case DwForm.LineStrp: return (2, v.U);
            case DwForm.Strx or DwForm.Strx1 or DwForm.Strx2 or DwForm.Strx3 or DwForm.Strx4 or DwForm.GnuStrIndex:
                var c = new DwarfCursor(Sections.StrOffsets.Span, BigEndian, ".debug_str_offsets");
                var at = u.StrOffsetsBase + v.U * (ulong)u.OffsetSize;
                if (v.U > int.MaxValue || at > (ulong)c.Length)
                    throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange, $"string index {v.U} (base 0x{u.StrOffsetsBase:x}) is outside .debug_str_offsets (size 0x{c.Length:x})");
                c.Seek(at);
                return (1, c.Sized(u.OffsetSize));
            default:
                return null; // dwz's alternate files and supplementary objects are not read
        }
    }

    public ReadOnlySpan<byte> StringBytes(DwarfUnit u, int section, ulong offset)
    {
        var data = section switch { 0 => SectionOf(u), 1 => Sections.Str.Span, _ => Sections.LineStr.Span };
        if (offset >= (ulong)data.Length)
            throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange,
                $"a string at 0x{offset:x} is outside {(section == 0 ? ".debug_info" : section == 1 ? ".debug_str" : ".debug_line_str")} (size 0x{data.Length:x})");
        var rest = data[(int)offset..];
        var end = rest.IndexOf((byte)0);
        if (end < 0)
            throw new DwarfFormatException(DwarfCodes.OffsetOutOfRange, $"the string at 0x{offset:x} has no terminating NUL");
        return rest[..end];
    }

    public string? String(DwarfUnit u, in DwarfValue v) =>
        StringLocation(u, v) is { } at ? Encoding.UTF8.GetString(StringBytes(u, at.Section, at.Offset)) : null;
}
