namespace Klp.Build.Elf;

/// <summary>
/// SHT_SYMTAB or SHT_DYNSYM. Entry 0 is the null symbol. Locals come before globals; sh_info (the first
/// non-local index) is computed when written. Relocations refer to symbols by object, so reordering is safe.
/// </summary>
public sealed class ElfSymbolTable : ElfSection
{
    private readonly List<ElfSymbol> _symbols = [];
    private bool _indicesValid;
    private Dictionary<ElfSymbol, int>? _indices;

    /// <summary>A new, empty SHT_SYMTAB (holding only the null symbol).</summary>
    public ElfSymbolTable() : this(ElfSectionType.SymbolTable, addNullSymbol: true) { }

    internal ElfSymbolTable(ElfSectionType type, bool addNullSymbol) : base(type)
    {
        if (addNullSymbol) Attach(new ElfSymbol(), _symbols.Count);
        IsModified = addNullSymbol;
    }

    public IReadOnlyList<ElfSymbol> Symbols => _symbols;

    /// <summary>The string table holding the names (sh_link).</summary>
    public ElfStringTable? Strings
    {
        get => Link as ElfStringTable;
        set => Link = value;
    }

    /// <summary>Whether symbols were added, removed or reordered since the table was read.</summary>
    public bool IsModified { get; private set; }

    public override ulong Size => (ulong)_symbols.Count * (File?.Encoding.SymbolSize is int s ? (ulong)s : EntrySize);

    /// <summary>Adds a symbol: a local one after the last local, anything else at the end.</summary>
    public ElfSymbol Add(ElfSymbol symbol)
    {
        ArgumentNullException.ThrowIfNull(symbol);
        var at = _symbols.Count;
        if (symbol.IsLocal)
        {
            at = FirstNonLocalIndex();
        }
        Attach(symbol, at);
        return symbol;
    }

    /// <summary>Removes a symbol (relocations still pointing at it make the write fail verification).</summary>
    public bool Remove(ElfSymbol symbol)
    {
        if (symbol.Table != this || symbol == _symbols[0]) return false;
        _symbols.Remove(symbol);
        symbol.Table = null;
        Touch();
        return true;
    }

    internal void RemoveWhere(Func<ElfSymbol, bool> predicate)
    {
        var removed = _symbols.Skip(1).Where(predicate).ToHashSet();
        if (removed.Count == 0) return;
        foreach (var s in removed) s.Table = null;
        _symbols.RemoveAll(removed.Contains);
        Touch();
    }

    /// <summary>Finds the first symbol named <paramref name="name"/>.</summary>
    public ElfSymbol? Find(string name) => _symbols.FirstOrDefault(s => s.Name == name);

    /// <summary>Puts locals before globals, keeping each group's order.</summary>
    public void SortLocalsFirst()
    {
        if (IsOrdered()) return;
        var head = _symbols[0];
        var rest = _symbols.Skip(1).Where(s => s.IsLocal).Concat(_symbols.Skip(1).Where(s => !s.IsLocal)).ToList();
        _symbols.Clear();
        _symbols.Add(head);
        _symbols.AddRange(rest);
        Touch();
    }

    internal int IndexOf(ElfSymbol symbol)
    {
        if (!_indicesValid || _indices is null)
        {
            _indices = new Dictionary<ElfSymbol, int>(_symbols.Count, ReferenceEqualityComparer.Instance);
            for (var i = 0; i < _symbols.Count; i++) _indices[_symbols[i]] = i;
            _indicesValid = true;
        }
        return _indices.TryGetValue(symbol, out var index) ? index : -1;
    }

    internal void AddRead(ElfSymbol symbol)
    {
        symbol.Table = this;
        _symbols.Add(symbol);
    }

    internal bool IsOrdered()
    {
        var seenGlobal = false;
        for (var i = 1; i < _symbols.Count; i++)
        {
            if (!_symbols[i].IsLocal) seenGlobal = true;
            else if (seenGlobal) return false;
        }
        return true;
    }

    internal int FirstNonLocalIndex()
    {
        var i = 1;
        while (i < _symbols.Count && _symbols[i].IsLocal) i++;
        return Math.Min(i, _symbols.Count);
    }

    /// <summary>sh_info: as read while unchanged, else the first non-local index.</summary>
    internal override uint ComputeInfo() => IsModified ? (uint)FirstNonLocalIndex() : Info;

    internal override void WriteContent(ElfEncoding encoding, Stream output)
    {
        var size = encoding.SymbolSize;
        var buffer = new byte[Math.Min(_symbols.Count, 4096) * size];
        var used = 0;
        foreach (var symbol in _symbols)
        {
            var span = buffer.AsSpan(used, size);
            var shndx = symbol.SectionIndex;
            var stored = symbol.Section is not null && shndx >= ElfSectionIndex.LoReserve ? ElfSectionIndex.XIndex : (ushort)shndx;
            var info = (byte)(((byte)symbol.Bind << 4) | ((byte)symbol.Type & 0xf));
            if (encoding.Is64)
            {
                encoding.U32(span, 0, symbol.NameOffset);
                span[4] = info;
                span[5] = symbol.Other;
                encoding.U16(span, 6, stored);
                encoding.U64(span, 8, symbol.Value);
                encoding.U64(span, 16, symbol.Size);
            }
            else
            {
                encoding.U32(span, 0, symbol.NameOffset);
                encoding.U32(span, 4, (uint)symbol.Value);
                encoding.U32(span, 8, (uint)symbol.Size);
                span[12] = info;
                span[13] = symbol.Other;
                encoding.U16(span, 14, stored);
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

    private void Attach(ElfSymbol symbol, int at)
    {
        if (symbol.Table is not null) throw new InvalidOperationException($"Symbol '{symbol.Name}' already belongs to a symbol table.");
        symbol.Table = this;
        _symbols.Insert(at, symbol);
        Touch();
    }

    private void Touch()
    {
        _indicesValid = false;
        IsModified = true;
    }
}

/// <summary>SHT_SYMTAB_SHNDX: the real section indices of symbols whose st_shndx is SHN_XINDEX; regenerated on write.</summary>
public sealed class ElfSymbolIndexTable() : ElfSection(ElfSectionType.SymbolTableSectionIndex)
{
    public ElfSymbolTable? SymbolTable
    {
        get => Link as ElfSymbolTable;
        set => Link = value;
    }

    public override ulong Size => (ulong)(SymbolTable?.Symbols.Count ?? 0) * 4;

    internal override void WriteContent(ElfEncoding encoding, Stream output)
    {
        if (SymbolTable is null) return;
        Span<byte> word = stackalloc byte[4];
        foreach (var symbol in SymbolTable.Symbols)
        {
            var index = symbol.Section is not null && symbol.SectionIndex >= ElfSectionIndex.LoReserve ? symbol.SectionIndex : 0u;
            encoding.U32(word, 0, index);
            output.Write(word);
        }
    }
}
