namespace Klp.Build.Elf;

/// <summary>One relocation: where (offset in the target section), against what symbol, of what type, plus what.</summary>
public sealed class ElfRelocation
{
    public ulong Offset { get; set; }

    /// <summary>The symbol, from the relocation section's symbol table; null for symbol index 0.</summary>
    public ElfSymbol? Symbol { get; set; }

    /// <summary>The machine-specific relocation type (see <see cref="ElfRelocationTypes"/>).</summary>
    public uint Type { get; set; }

    /// <summary>The explicit addend (SHT_RELA only; always 0 for SHT_REL).</summary>
    public long Addend { get; set; }

    public override string ToString() => $"0x{Offset:x} type {Type} {Symbol?.Name ?? "<0>"} {Addend:+0;-0;+0}";
}

/// <summary>SHT_REL or SHT_RELA. Link is the symbol table, InfoSection the section being relocated.</summary>
public sealed class ElfRelocationTable : ElfSection
{
    public ElfRelocationTable(bool withAddends = true) : base(withAddends ? ElfSectionType.Rela : ElfSectionType.Rel) { }

    public bool HasAddends => Type == ElfSectionType.Rela;

    public List<ElfRelocation> Entries { get; } = [];

    public ElfSymbolTable? SymbolTable
    {
        get => Link as ElfSymbolTable;
        set => Link = value;
    }

    /// <summary>The section the relocations apply to (sh_info).</summary>
    public ElfSection? Target
    {
        get => InfoSection;
        set => InfoSection = value;
    }

    public override ulong Size => (ulong)Entries.Count * EntrySizeFor(File?.Encoding);

    internal ulong EntrySizeFor(ElfEncoding? encoding) =>
        encoding is { } e ? (ulong)(HasAddends ? e.RelaSize : e.RelSize) : EntrySize;

    internal override void WriteContent(ElfEncoding encoding, Stream output)
    {
        var size = HasAddends ? encoding.RelaSize : encoding.RelSize;
        var buffer = new byte[Math.Min(Math.Max(Entries.Count, 1), 4096) * size];
        var used = 0;
        foreach (var entry in Entries)
        {
            var span = buffer.AsSpan(used, size);
            var symbol = entry.Symbol is null ? 0u : (uint)entry.Symbol.Index;
            if (encoding.Is64)
            {
                encoding.U64(span, 0, entry.Offset);
                encoding.U64(span, 8, ((ulong)symbol << 32) | entry.Type);
                if (HasAddends) encoding.U64(span, 16, (ulong)entry.Addend);
            }
            else
            {
                encoding.U32(span, 0, (uint)entry.Offset);
                encoding.U32(span, 4, (symbol << 8) | (entry.Type & 0xff));
                if (HasAddends) encoding.U32(span, 8, (uint)(int)entry.Addend);
            }
            used += size;
            if (used == buffer.Length)
            {
                output.Write(buffer, 0, used);
                used = 0;
            }
        }
        output.Write(buffer, 0, used);
    }
}

/// <summary>SHT_GROUP (COMDAT groups): a flag word and member sections, named by a signature symbol.</summary>
public sealed class ElfGroupSection() : ElfSection(ElfSectionType.Group)
{
    public const uint ComdatFlag = 1;

    public uint GroupFlags { get; set; }
    public List<ElfSection> Members { get; } = [];

    /// <summary>The signature symbol (sh_info), from the symbol table in Link.</summary>
    public ElfSymbol? Signature { get; set; }

    public override ulong Size => 4 * (1 + (ulong)Members.Count);

    internal override uint ComputeInfo() => Signature is null ? Info : (uint)Signature.Index;

    internal override void WriteContent(ElfEncoding encoding, Stream output)
    {
        var buffer = new byte[4 * (1 + Members.Count)];
        encoding.U32(buffer, 0, GroupFlags);
        for (var i = 0; i < Members.Count; i++) encoding.U32(buffer, 4 * (i + 1), (uint)Members[i].Index);
        output.Write(buffer);
    }
}
