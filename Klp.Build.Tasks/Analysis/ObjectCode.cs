using System.Buffers.Binary;
using Klp.Build.Elf;

namespace Klp.Build.Analysis;

/// <summary>A function symbol of an object: address (vmlinux) or synthetic address (module, see <see cref="ObjectCode"/>).</summary>
public sealed record FunctionSymbol(string Name, ulong Address, ulong Size, string Section)
{
    public ulong End => Address + Size;
    public bool Contains(ulong address) => address >= Address && address < End;
    public override string ToString() => Name;
}

/// <summary>
/// The code of one object (vmlinux or a module) as an address space: its executable bytes, its function symbols
/// by name and address, and its ftrace call sites (the mcount table). A linked image keeps its addresses; a
/// relocatable module gets a synthetic layout (each allocated section at its own base) with its PC-relative and
/// absolute relocations applied, so calls decode to their targets; undefined symbols get addresses of their own
/// in an "external" range (<see cref="ExternalName"/>) so a call to a kernel function is still recognised by name.
/// </summary>
public sealed class ObjectCode
{
    // Both within 2 GB of each other, so every rel32 of the synthetic layout still reaches its target.
    private const ulong ModuleBase = 0x1000_0000;
    private const ulong ExternalBase = 0x5000_0000;

    private readonly List<(ulong Start, byte[] Bytes, string Name)> _regions = [];
    private readonly FunctionSymbol[] _functions; // by address, then name
    private readonly (ulong Address, string Name)[] _labels; // every code symbol (FUNC or NOTYPE), by address
    private readonly Dictionary<string, List<FunctionSymbol>> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, string> _externals = [];
    private readonly Dictionary<string, ulong> _externalByName = new(StringComparer.Ordinal);
    private readonly ulong[] _mcount;

    private ObjectCode(string name, ElfFile file, IReadOnlyDictionary<ElfSection, ulong> bases)
    {
        Name = name;
        IsRelocatable = file.Type == ElfFileType.Relocatable;
        Machine = file.Machine;
        var symbols = file.SymbolTable?.Symbols ?? [];
        ulong Resolve(ElfSymbol s)
        {
            if (s.Section is { } section)
                return (bases.TryGetValue(section, out var b) ? b : 0) + s.Value;
            if (!s.IsUndefined || s.Name.Length == 0) return s.Value;
            if (!_externalByName.TryGetValue(s.Name, out var address))
            {
                address = ExternalBase + (ulong)_externalByName.Count * 16;
                _externalByName[s.Name] = address;
                _externals[address] = s.Name;
            }
            return address;
        }

        foreach (var section in file.Sections)
        {
            if (!section.Flags.HasFlag(ElfSectionFlags.ExecInstr) || !section.Flags.HasFlag(ElfSectionFlags.Alloc)) continue;
            if (section is not ElfRawSection { Type: not ElfSectionType.NoBits } raw) continue;
            var bytes = raw.Data.ToArray();
            if (IsRelocatable) Relocate(file, section, bytes, bases[section], Resolve);
            _regions.Add((IsRelocatable ? bases[section] : section.Address, bytes, section.Name));
        }
        _regions.Sort((a, b) => a.Start.CompareTo(b.Start));

        var functions = new List<FunctionSymbol>();
        var labels = new List<(ulong, string)>();
        foreach (var s in symbols)
        {
            if (s.Section is not { } section || !section.Flags.HasFlag(ElfSectionFlags.ExecInstr) || s.Name.Length == 0) continue;
            if (s.Name.StartsWith(".L", StringComparison.Ordinal) || s.Name.StartsWith('$')) continue;
            var address = Resolve(s);
            if (s.Type == ElfSymbolType.Function)
            {
                var f = new FunctionSymbol(s.Name, address, s.Size, section.Name);
                functions.Add(f);
                if (!_byName.TryGetValue(s.Name, out var list)) _byName[s.Name] = list = [];
                list.Add(f);
            }
            if (s.Type is ElfSymbolType.Function or ElfSymbolType.NoType) labels.Add((address, s.Name));
        }
        _functions = functions.OrderBy(f => f.Address).ThenBy(f => f.Name, StringComparer.Ordinal).ToArray();
        _labels = labels.OrderBy(l => l.Item1).ToArray();
        if (!IsRelocatable) // kallsyms order; a module's sympos counts in symbol-table order, as read
            foreach (var list in _byName.Values) list.Sort((a, b) => a.Address.CompareTo(b.Address));
        _mcount = ReadMcount(file, symbols, bases, Resolve);
    }

    /// <summary>"vmlinux" or the module's name.</summary>
    public string Name { get; }
    public bool IsRelocatable { get; }
    public ElfMachine Machine { get; }
    public bool IsX86_64 => Machine == ElfMachine.X86_64;

    /// <summary>Function symbols in address order.</summary>
    public IReadOnlyList<FunctionSymbol> Functions => _functions;

    /// <summary>The sorted addresses of every ftrace (fentry) call site.</summary>
    public IReadOnlyList<ulong> McountSites => _mcount;

    public IEnumerable<(ulong Start, byte[] Bytes, string Section)> Regions => _regions;

    /// <summary>Reads an object: a linked vmlinux keeps its addresses, a relocatable module is laid out (see the class summary).</summary>
    public static ObjectCode FromElf(ElfFile file, string name)
    {
        var bases = new Dictionary<ElfSection, ulong>(ReferenceEqualityComparer.Instance);
        if (file.Type == ElfFileType.Relocatable)
        {
            var next = ModuleBase;
            foreach (var section in file.Sections.Where(s => s.Flags.HasFlag(ElfSectionFlags.Alloc)))
            {
                var align = Math.Max(section.Alignment, 16);
                next = (next + align - 1) / align * align;
                bases[section] = next;
                next += Math.Max(section.Size, 1) + 16;
            }
        }
        else
        {
            foreach (var section in file.Sections) bases[section] = 0;
        }
        return new ObjectCode(name, file, bases);
    }

    /// <summary>The function symbols of a name, in the order sympos counts them (address order for vmlinux, symbol-table order for a module).</summary>
    public IReadOnlyList<FunctionSymbol> Named(string name) => _byName.TryGetValue(name, out var list) ? list : [];

    /// <summary>The function symbols starting at an address (several when IPA-ICF or an alias put them there).</summary>
    public IReadOnlyList<FunctionSymbol> At(ulong address)
    {
        var i = LowerBound(address);
        var result = new List<FunctionSymbol>();
        for (; i < _functions.Length && _functions[i].Address == address; i++) result.Add(_functions[i]);
        return result;
    }

    /// <summary>The function whose extent holds the address (the first by name when several share it), else null.</summary>
    public FunctionSymbol? Containing(ulong address)
    {
        var i = LowerBound(address + 1) - 1;
        for (var steps = 0; i >= 0 && steps < 64; i--, steps++)
        {
            if (_functions[i].Contains(address))
            {
                while (i > 0 && _functions[i - 1].Address == _functions[i].Address && _functions[i - 1].Contains(address)) i--;
                return _functions[i];
            }
            if (_functions[i].Size > 0 && _functions[i].End <= address) break;
        }
        return null;
    }

    /// <summary>A name for the code holding an address: its function, else the nearest code label before it (asm entry code).</summary>
    public string Describe(ulong address)
    {
        if (Containing(address) is { } f) return f.Name;
        var i = LabelIndex(address);
        return i >= 0 ? _labels[i].Name : $"0x{address:x}";
    }

    /// <summary>The name of an undefined symbol a module's call resolves to, or null.</summary>
    public string? ExternalName(ulong address) => _externals.GetValueOrDefault(address);

    /// <summary>The name of an address: an external's name, the function starting there, else a code label there (asm: __x86_return_thunk...).</summary>
    public string? NameAt(ulong address)
    {
        if (ExternalName(address) is { } external) return external;
        if (At(address) is { Count: > 0 } functions) return functions[0].Name;
        var i = LabelIndex(address);
        return i >= 0 && _labels[i].Address == address ? _labels[i].Name : null;
    }

    /// <summary>The last code label at or before the address, -1 when none.</summary>
    private int LabelIndex(ulong address)
    {
        int lo = 0, hi = _labels.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (_labels[mid].Address <= address) lo = mid + 1;
            else hi = mid;
        }
        return lo - 1;
    }

    /// <summary>The bytes from an address to the end of its executable region (empty when the address holds no code).</summary>
    public ReadOnlyMemory<byte> CodeAt(ulong address)
    {
        foreach (var (start, bytes, _) in _regions)
            if (address >= start && address < start + (ulong)bytes.Length)
                return bytes.AsMemory((int)(address - start));
        return ReadOnlyMemory<byte>.Empty;
    }

    public ReadOnlyMemory<byte> Code(FunctionSymbol function)
    {
        var code = CodeAt(function.Address);
        return code.Length >= (long)function.Size ? code[..(int)function.Size] : code;
    }

    /// <summary>Whether an ftrace call site sits at the function's entry (or right after its endbr64).</summary>
    public bool HasFentry(FunctionSymbol function)
    {
        if (Array.BinarySearch(_mcount, function.Address) >= 0) return true;
        var code = CodeAt(function.Address).Span;
        return code.Length >= 4 && code[0] == 0xf3 && code[1] == 0x0f && code[2] == 0x1e && code[3] == 0xfa
               && Array.BinarySearch(_mcount, function.Address + 4) >= 0;
    }

    private int LowerBound(ulong address)
    {
        int lo = 0, hi = _functions.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (_functions[mid].Address < address) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static ulong[] ReadMcount(ElfFile file, IReadOnlyList<ElfSymbol> symbols, IReadOnlyDictionary<ElfSection, ulong> bases, Func<ElfSymbol, ulong> resolve)
    {
        var result = new List<ulong>();
        if (file.Type != ElfFileType.Relocatable)
        {
            var start = symbols.FirstOrDefault(s => s.Name == "__start_mcount_loc");
            var stop = symbols.FirstOrDefault(s => s.Name == "__stop_mcount_loc");
            if (start?.Section is ElfRawSection { Type: not ElfSectionType.NoBits } section && stop is not null && stop.Value >= start.Value)
            {
                var data = section.Data.Span;
                for (var at = start.Value; at + 8 <= stop.Value; at += 8)
                {
                    var offset = (long)(at - section.Address);
                    if (offset < 0 || offset + 8 > data.Length) break;
                    result.Add(BinaryPrimitives.ReadUInt64LittleEndian(data[(int)offset..]));
                }
            }
        }
        else if (file.FindSection("__mcount_loc") is ElfRawSection mcount)
        {
            var bytes = mcount.Data.ToArray();
            Relocate(file, mcount, bytes, bases[mcount], resolve);
            for (var at = 0; at + 8 <= bytes.Length; at += 8) result.Add(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at)));
        }
        result.Sort();
        return result.ToArray();
    }

    /// <summary>Applies a section's x86-64 relocations into a copy of its bytes at its synthetic base.</summary>
    private static void Relocate(ElfFile file, ElfSection section, byte[] bytes, ulong sectionBase, Func<ElfSymbol, ulong> resolve)
    {
        if (file.Machine != ElfMachine.X86_64) return;
        foreach (var table in file.Sections.OfType<ElfRelocationTable>().Where(t => ReferenceEquals(t.Target, section)))
        {
            foreach (var r in table.Entries)
            {
                if (r.Symbol is null || r.Offset + 4 > (ulong)bytes.Length) continue;
                var s = resolve(r.Symbol);
                var p = sectionBase + r.Offset;
                var span = bytes.AsSpan((int)r.Offset);
                switch (r.Type)
                {
                    case 1 when r.Offset + 8 <= (ulong)bytes.Length: // R_X86_64_64
                        BinaryPrimitives.WriteUInt64LittleEndian(span, s + (ulong)r.Addend);
                        break;
                    case 2 or 4 or 24: // PC32, PLT32, PC64 (low half is enough to decode)
                        BinaryPrimitives.WriteInt32LittleEndian(span, (int)(long)(s + (ulong)r.Addend - p));
                        break;
                    case 10 or 11: // 32, 32S
                        BinaryPrimitives.WriteInt32LittleEndian(span, (int)(long)(s + (ulong)r.Addend));
                        break;
                }
            }
        }
    }
}
