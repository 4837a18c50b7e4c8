using System.Buffers.Binary;
using System.Globalization;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Symbols;

namespace Klp.Build.Conversion;

/// <summary>
/// klp-convert: turns the relocations of a linked livepatch module that use undefined, non-exported symbols into
/// livepatch relocations (.klp.rela.&lt;object&gt;.&lt;section&gt; against .klp.sym.&lt;object&gt;.&lt;name&gt;,&lt;pos&gt;),
/// which the kernel's livepatch core resolves through kallsyms (Documentation/livepatch/module-elf-format.rst).
/// Checks everything first and edits the module only when there is no error.
/// </summary>
public static class LivepatchConverter
{
    /// <summary>Size of one KLP_SYMPOS entry: struct klp_module_reloc { union { void *sym; u64 sym64; }; u32 sympos; } __packed.</summary>
    public const int AnnotationEntrySize = 12;

    private const ElfSectionFlags LivepatchRelaFlags = ElfSectionFlags.Alloc | ElfSectionFlags.InfoLink | ElfSectionFlags.RelaLivepatch;

    private sealed record Move(ElfRelocationTable From, ElfRelocation Entry, ElfSection Patched, string SectionObject, LivepatchTarget Target, string OriginalSymbol);

    public static ConversionReport Convert(ElfFile module, KernelSymbolMap map, ExportedSymbols exports, ConversionOptions options, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(exports);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var file = module.Name;
        var errorsAtStart = diagnostics.Items.Count(d => d.IsError);
        bool Failed() => diagnostics.Items.Count(d => d.IsError) > errorsAtStart;

        var symtab = module.SymbolTable;
        if (symtab is null)
        {
            if (module.Sections.OfType<ElfRelocationTable>().Any(t => t.Entries.Count > 0))
            {
                diagnostics.Error(ConversionCodes.UnsupportedModule, $"{file} has relocations but no symbol table (.symtab): it is not a kernel module that can be converted.", file);
                return ConversionReport.Failed;
            }
            return new ConversionReport { Succeeded = true };
        }

        // 1. What the project says about ambiguous names: KLP_SYMPOS annotations and project items.
        var annotations = module.Sections.Where(s => s.Name.StartsWith(LivepatchNames.AnnotationPrefix, StringComparison.Ordinal)).ToList();
        var hints = new Dictionary<string, Disambiguation>(StringComparer.Ordinal);
        foreach (var section in annotations) ReadAnnotations(module, section, hints, diagnostics);
        var optionHints = new List<string>();
        foreach (var position in options.Positions)
        {
            AddHint(hints, position.Symbol, new Disambiguation(position.Object, position.Position,
                $"<KernelSymbol Include=\"{position.Symbol}\" /> in {options.PositionsSource}"), file, diagnostics);
            optionHints.Add(position.Symbol);
        }

        // 2. A target for every undefined symbol the loader cannot resolve by itself.
        var resolver = new SymbolResolver(map, file, diagnostics);
        var targets = new Dictionary<ElfSymbol, (LivepatchTarget Target, string SectionObject)>(ReferenceEqualityComparer.Instance);
        var existing = new Dictionary<ElfSymbol, LivepatchTarget>(ReferenceEqualityComparer.Instance);
        var unresolved = new List<string>();
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var symbol in symtab.Symbols.Skip(1))
        {
            if (symbol.Section is null && symbol.SpecialSectionIndex == ElfSectionIndex.Livepatch)
            {
                if (!LivepatchNames.TryParseSymbol(symbol.Name, allowRelaForm: false, out var t, out _, out var problem))
                    diagnostics.Error(ConversionCodes.MalformedName, $"livepatch symbol {problem}; the kernel would refuse it ('incorrectly formatted name').", file);
                else if (resolver.Validate(t!, $"livepatch symbol '{symbol.Name}'")) existing[symbol] = t!;
                continue;
            }
            if (!symbol.IsUndefined || symbol.Name.Length == 0) continue;
            referenced.Add(symbol.Name);
            if (symbol.Name.StartsWith(LivepatchNames.SymbolPrefix, StringComparison.Ordinal))
            {
                if (!LivepatchNames.TryParseSymbol(symbol.Name, allowRelaForm: true, out var t, out var sectionObject, out var problem))
                {
                    diagnostics.Error(ConversionCodes.MalformedName, $"declaration of livepatch symbol {problem}.", file);
                    unresolved.Add(symbol.Name);
                }
                else if (!resolver.Validate(t!, $"the declaration '{symbol.Name}'")) unresolved.Add(symbol.Name);
                else if (sectionObject != LivepatchNames.Vmlinux && t!.IsVmlinux)
                {
                    diagnostics.Error(ConversionCodes.InvalidLivepatchSection,
                        $"'{symbol.Name}' puts a vmlinux symbol ('{t.Name}') into the module-specific section .klp.rela.{sectionObject}.*; the kernel refuses that " +
                        $"('invalid access to vmlinux symbol from module-specific livepatch relocation section'): use KLP_RELOC_SYMBOL_POS(vmlinux, vmlinux, {t.Name}, {t.Position}).", file);
                    unresolved.Add(symbol.Name);
                }
                else targets[symbol] = (t!, sectionObject!);
                continue;
            }
            if (exports.Contains(symbol.Name) || IgnoredByLoader(module.Machine, symbol.Name)) continue;
            var hint = hints.GetValueOrDefault(symbol.Name);
            // A weak undefined symbol the target does not have resolves to 0 in the loader: leave it.
            if (symbol.Bind == ElfSymbolBind.Weak && hint is null && map.FindEverywhere(symbol.Name).Count == 0) continue;
            var errorsBefore = diagnostics.Items.Count(d => d.IsError);
            var target = resolver.Resolve(symbol.Name, hint);
            // A name the resolver already explained (ambiguous, not found) is not reported twice.
            if (target is null)
            {
                if (diagnostics.Items.Count(d => d.IsError) == errorsBefore) unresolved.Add(symbol.Name);
            }
            else targets[symbol] = (target, target.Object);
        }
        foreach (var name in optionHints.Distinct(StringComparer.Ordinal).Where(n => !referenced.Contains(n)))
            diagnostics.Warning(ConversionCodes.UnusedPosition,
                $"{options.PositionsSource} gives a position for '{name}', but {Path.GetFileName(file)} has no undefined reference to it (exported, defined by the patch, or unused): remove the item.", file);

        // 3. Which relocations move where; what the kernel could not apply.
        var annotationSet = annotations.ToHashSet(ReferenceEqualityComparer.Instance);
        var moves = new List<Move>();
        var livepatchTables = new List<ElfRelocationTable>();
        foreach (var table in module.Sections.OfType<ElfRelocationTable>().ToList())
        {
            if (table.Target is { } t0 && annotationSet.Contains(t0)) continue;
            if (table.SymbolTable != symtab) continue;
            var patched = table.Target;
            if (table.Name.StartsWith(LivepatchNames.RelaPrefix, StringComparison.Ordinal) || table.Flags.HasFlag(ElfSectionFlags.RelaLivepatch))
            {
                livepatchTables.Add(table);
                CheckLivepatchTable(table, targets, existing, file, diagnostics);
                continue;
            }
            var reportedRel = false;
            foreach (var entry in table.Entries)
            {
                if (entry.Symbol is not { } symbol || !targets.TryGetValue(symbol, out var target)) continue;
                if (patched is null) continue;
                var use = KernelSections.Classify(patched.Name, patched.Flags.HasFlag(ElfSectionFlags.Alloc));
                if (use == SectionUse.NotLoaded) continue; // never applied by the loader: only the symbol changes
                if (!table.HasAddends)
                {
                    if (!reportedRel)
                        diagnostics.Error(ConversionCodes.UnsupportedModule,
                            $"{table.Name} holds SHT_REL relocations (no addends) to '{symbol.Name}'; livepatch relocations are SHT_RELA (apply_relocate_add), so {module.Machine} modules cannot use them.", file);
                    reportedRel = true;
                    continue;
                }
                if (!CheckPlacement(use, patched, entry.Offset, symbol.Name, target.Target, target.SectionObject, file, diagnostics)) continue;
                moves.Add(new Move(table, entry, patched, target.SectionObject, target.Target, symbol.Name));
            }
        }

        // 4. Nothing undefined may stay that the loader cannot resolve.
        if (unresolved.Count > 0)
            diagnostics.Error(ConversionCodes.UnresolvedSymbols,
                $"{unresolved.Count} undefined symbol{(unresolved.Count == 1 ? "" : "s")} would remain that {(unresolved.Count == 1 ? "is" : "are")} neither exported nor converted, and the kernel would refuse to load the module ('Unknown symbol'): " +
                string.Join(", ", unresolved.Distinct(StringComparer.Ordinal)) + ".", file);
        if (Failed()) return ConversionReport.Failed;

        return Apply(module, symtab, targets, existing, moves, annotations, livepatchTables, file, diagnostics);
    }

    private static ConversionReport Apply(ElfFile module, ElfSymbolTable symtab,
        Dictionary<ElfSymbol, (LivepatchTarget Target, string SectionObject)> targets, Dictionary<ElfSymbol, LivepatchTarget> existing,
        List<Move> moves, List<ElfSection> annotations, List<ElfRelocationTable> livepatchTables, string file, DiagnosticBag diagnostics)
    {
        // One symbol per target, shared by every relocation: an existing .klp.sym symbol, else the first undefined one, renamed.
        var canonical = new Dictionary<LivepatchTarget, ElfSymbol>();
        foreach (var symbol in symtab.Symbols)
            if (existing.TryGetValue(symbol, out var t)) canonical.TryAdd(t, symbol);
        var duplicates = new Dictionary<ElfSymbol, ElfSymbol>(ReferenceEqualityComparer.Instance);
        var converted = new List<ElfSymbol>();
        foreach (var symbol in symtab.Symbols.ToList())
        {
            if (!targets.TryGetValue(symbol, out var target)) continue;
            if (canonical.TryGetValue(target.Target, out var other))
            {
                duplicates[symbol] = other;
                continue;
            }
            symbol.Name = target.Target.SymbolName;
            symbol.Section = null;
            symbol.SpecialSectionIndex = ElfSectionIndex.Livepatch;
            symbol.Bind = ElfSymbolBind.Global;
            symbol.Value = 0;
            symbol.Size = 0;
            canonical[target.Target] = symbol;
            converted.Add(symbol);
        }
        ElfSymbol Canonical(ElfSymbol s) => duplicates.GetValueOrDefault(s) ?? s;

        // Move the relocations, in section and entry order (deterministic).
        var relocations = new List<ConvertedRelocation>();
        var moved = new HashSet<ElfRelocation>(ReferenceEqualityComparer.Instance);
        var created = new Dictionary<string, ElfRelocationTable>(StringComparer.Ordinal);
        foreach (var move in moves)
        {
            var name = LivepatchNames.RelaSectionName(move.SectionObject, move.Patched.Name);
            if (!created.TryGetValue(name, out var table))
            {
                table = livepatchTables.FirstOrDefault(t => t.Name == name && t.Target == move.Patched && t.HasAddends)
                        ?? module.AddSection(new ElfRelocationTable(withAddends: true)
                        {
                            Name = name,
                            Flags = LivepatchRelaFlags,
                            Alignment = module.Is64 ? 8UL : 4UL,
                            SymbolTable = symtab,
                            Target = move.Patched,
                        });
                created[name] = table;
            }
            move.Entry.Symbol = Canonical(move.Entry.Symbol!);
            table.Entries.Add(move.Entry);
            moved.Add(move.Entry);
            relocations.Add(new ConvertedRelocation(name, move.Patched.Name, move.Entry.Offset, move.Entry.Type, move.Entry.Addend, move.Target, move.OriginalSymbol));
        }
        var emptied = new List<ElfRelocationTable>();
        foreach (var table in moves.Select(m => m.From).Distinct())
        {
            table.Entries.RemoveAll(moved.Contains);
            if (table.Entries.Count == 0) emptied.Add(table);
        }
        foreach (var table in module.Sections.OfType<ElfRelocationTable>())
            foreach (var entry in table.Entries)
                if (entry.Symbol is { } s && duplicates.ContainsKey(s)) entry.Symbol = Canonical(s);
        foreach (var table in livepatchTables.Concat(created.Values)) table.Flags |= LivepatchRelaFlags;
        foreach (var duplicate in duplicates.Keys) symtab.Remove(duplicate);

        // Drop what the kernel does not need: annotations, relocation sections left empty (the loader accepts
        // empty ones too; dropped unless another section refers to them).
        var removed = new List<string>();
        foreach (var section in annotations)
        {
            removed.Add(section.Name);
            removed.AddRange(module.Sections.OfType<ElfRelocationTable>().Where(t => t.Target == section).Select(t => t.Name));
            module.RemoveSection(section);
        }
        foreach (var table in emptied)
        {
            if (table.File != module) continue;
            var needed = module.Sections.Any(s => s != table && (s.Link == table || s.InfoSection == table)) ||
                         module.Sections.OfType<ElfGroupSection>().Any(g => g.Members.Contains(table));
            if (needed) continue;
            removed.Add(table.Name);
            module.RemoveSection(table);
        }

        // Livepatch symbols nothing uses any more (named only by annotations) go too.
        var used = new HashSet<ElfSymbol>(ReferenceEqualityComparer.Instance);
        foreach (var table in module.Sections.OfType<ElfRelocationTable>())
            foreach (var entry in table.Entries)
                if (entry.Symbol is { } s) used.Add(s);
        foreach (var symbol in converted.Where(s => !used.Contains(s))) symtab.Remove(symbol);
        symtab.SortLocalsFirst();

        foreach (var group in relocations.Where(r => !r.Target.IsVmlinux).GroupBy(r => r.Target.Object, StringComparer.Ordinal))
        {
            var names = group.Select(r => r.Target.Name).Distinct(StringComparer.Ordinal).ToList();
            diagnostics.Warning(ConversionCodes.LateModuleSymbols,
                $"{string.Join(", ", names)} of module '{group.Key}' {(names.Count == 1 ? "is" : "are")} resolved only when '{group.Key}' is loaded (late patching): " +
                $"the kernel applies .klp.rela.{group.Key}.* when the patch is enabled with '{group.Key}' loaded, or when '{group.Key}' loads later. " +
                $"The patch needs a klp_object for '{group.Key}', and code using {(names.Count == 1 ? "it" : "them")} must not run while '{group.Key}' is not loaded.", file);
        }

        var symbols = symtab.Symbols.Where(s => s.Section is null && s.SpecialSectionIndex == ElfSectionIndex.Livepatch && used.Contains(s))
            .Select(s => LivepatchNames.TryParseSymbol(s.Name, false, out var t, out _, out _) ? t! : null)
            .OfType<LivepatchTarget>().ToList();
        return new ConversionReport { Succeeded = true, Relocations = relocations, Symbols = symbols, RemovedSections = removed };
    }

    /// <summary>Checks that the kernel can apply a livepatch relocation in this section; reports why not.</summary>
    private static bool CheckPlacement(SectionUse use, ElfSection patched, ulong offset, string symbolName, LivepatchTarget target, string sectionObject,
        string file, DiagnosticBag diagnostics)
    {
        var where = string.Create(CultureInfo.InvariantCulture, $"{patched.Name}+0x{offset:x}");
        switch (use)
        {
            case SectionUse.SiteTable:
                diagnostics.Error(ConversionCodes.SiteTableRelocation,
                    $"{where} refers to '{symbolName}' ({target.Object}): the entries of {patched.Name} describe the patch module's own code and the kernel " +
                    $"processes them for the patch module while it loads; an entry pointing into {target.Object} cannot work. Remove the construct that " +
                    "emits it (alternative, exception-table or BUG entry, ftrace site...) or keep it inside the patch module.", file);
                return false;
            case SectionUse.LoadTime when sectionObject != LivepatchNames.Vmlinux:
                var init = patched.Name.StartsWith(".init", StringComparison.Ordinal);
                diagnostics.Error(ConversionCodes.LateRelocationInLoadTimeSection,
                    $"{where} refers to '{symbolName}' of module '{sectionObject}', which is resolved only when '{sectionObject}' loads; but the kernel " +
                    (init ? $"frees {patched.Name} once the patch module's init has run" : $"consumes {patched.Name} while the patch module itself loads") +
                    ", so the relocation would come too late. Use an exported symbol, or reach it at run time (e.g. static_key_enabled() instead of a " +
                    "static branch on the module's key; no static_call to a module's key).", file);
                return false;
            default:
                return true;
        }
    }

    private static void CheckLivepatchTable(ElfRelocationTable table, Dictionary<ElfSymbol, (LivepatchTarget Target, string SectionObject)> targets,
        Dictionary<ElfSymbol, LivepatchTarget> existing, string file, DiagnosticBag diagnostics)
    {
        var sectionObject = LivepatchNames.RelaSectionObject(table.Name);
        if (sectionObject is null || LivepatchNames.ObjectNameProblem(sectionObject) is not null || !table.Name.StartsWith(LivepatchNames.RelaPrefix, StringComparison.Ordinal))
        {
            diagnostics.Error(ConversionCodes.MalformedName, $"livepatch relocation section '{table.Name}' is not named .klp.rela.<object>.<section> with an object name of 1 to {LivepatchNames.MaxObjectLength} characters.", file);
            return;
        }
        if (!table.HasAddends)
        {
            diagnostics.Error(ConversionCodes.UnsupportedModule, $"livepatch relocation section '{table.Name}' is SHT_REL; the kernel applies livepatch relocations as SHT_RELA.", file);
            return;
        }
        if (table.Target is null)
        {
            diagnostics.Error(ConversionCodes.InvalidLivepatchSection, $"livepatch relocation section '{table.Name}' names no section to patch (sh_info).", file);
            return;
        }
        var errors = 0;
        foreach (var entry in table.Entries)
        {
            if (errors >= 5) break;
            LivepatchTarget? target = null;
            if (entry.Symbol is { } s)
                target = targets.TryGetValue(s, out var t) ? t.Target : existing.GetValueOrDefault(s);
            var where = string.Create(CultureInfo.InvariantCulture, $"{table.Name} at 0x{entry.Offset:x}");
            if (target is null)
            {
                errors++;
                diagnostics.Error(ConversionCodes.InvalidLivepatchSection,
                    $"{where} uses '{entry.Symbol?.Name ?? "<symbol 0>"}', which is not a livepatch symbol (.klp.sym.*, SHN_LIVEPATCH); the kernel refuses it ('not marked as a livepatch symbol').", file);
            }
            else if (sectionObject != LivepatchNames.Vmlinux && target.IsVmlinux)
            {
                errors++;
                diagnostics.Error(ConversionCodes.InvalidLivepatchSection,
                    $"{where}: the module-specific section uses vmlinux symbol '{target.Name}'; the kernel refuses that ('invalid access to vmlinux symbol from module-specific livepatch relocation section'): put it in .klp.rela.vmlinux.{table.Target.Name}.", file);
            }
            else
            {
                var use = KernelSections.Classify(table.Target.Name, table.Target.Flags.HasFlag(ElfSectionFlags.Alloc));
                if (!CheckPlacement(use, table.Target, entry.Offset, entry.Symbol!.Name, target, sectionObject, file, diagnostics)) errors++;
            }
        }
    }

    private static void ReadAnnotations(ElfFile module, ElfSection section, Dictionary<string, Disambiguation> hints, DiagnosticBag diagnostics)
    {
        var file = module.Name;
        var obj = section.Name[LivepatchNames.AnnotationPrefix.Length..];
        if (LivepatchNames.ObjectNameProblem(obj) is { } problem)
        {
            diagnostics.Error(ConversionCodes.MalformedName, $"annotation section '{section.Name}': {problem}; use KLP_MODULE_RELOC(vmlinux) or KLP_MODULE_RELOC(<module name>).", file);
            return;
        }
        if (section is not ElfRawSection raw)
        {
            diagnostics.Error(ConversionCodes.MalformedAnnotation, $"annotation section '{section.Name}' has no contents ({section.Type}).", file);
            return;
        }
        var data = raw.Data.Span;
        foreach (var table in module.Sections.OfType<ElfRelocationTable>().Where(t => t.Target == section))
        {
            foreach (var entry in table.Entries)
            {
                var where = string.Create(CultureInfo.InvariantCulture, $"{section.Name}+0x{entry.Offset:x}");
                if (entry.Offset % AnnotationEntrySize != 0 || entry.Offset + AnnotationEntrySize > (ulong)data.Length)
                {
                    diagnostics.Error(ConversionCodes.MalformedAnnotation,
                        $"{where} is not the start of a KLP_SYMPOS entry ({AnnotationEntrySize} bytes: struct klp_module_reloc from klp/klp_reloc.h).", file);
                    continue;
                }
                if (entry.Symbol is not { IsUndefined: true, Name.Length: > 0 } symbol)
                {
                    diagnostics.Error(ConversionCodes.MalformedAnnotation,
                        $"{where} names '{entry.Symbol?.Name ?? "nothing"}', which the patch module defines itself; KLP_SYMPOS is for symbols of the target (declared extern).", file);
                    continue;
                }
                var word = data.Slice((int)entry.Offset + 8, 4);
                var position = module.IsBigEndian ? BinaryPrimitives.ReadUInt32BigEndian(word) : BinaryPrimitives.ReadUInt32LittleEndian(word);
                if (position > int.MaxValue)
                {
                    diagnostics.Error(ConversionCodes.InvalidPosition, $"{where}: position {position} of '{symbol.Name}' is out of range.", file);
                    continue;
                }
                AddHint(hints, symbol.Name, new Disambiguation(obj, (int)position, $"KLP_SYMPOS({symbol.Name}, {position}) in KLP_MODULE_RELOC({obj})"), file, diagnostics);
            }
        }
    }

    private static void AddHint(Dictionary<string, Disambiguation> hints, string name, Disambiguation hint, string file, DiagnosticBag diagnostics)
    {
        if (!hints.TryGetValue(name, out var known))
        {
            hints[name] = hint;
            return;
        }
        if (known.Object is not null && hint.Object is not null && known.Object != hint.Object ||
            known.Position is not null && hint.Position is not null && known.Position != hint.Position)
        {
            diagnostics.Error(ConversionCodes.ConflictingPositions,
                $"'{name}' is given two different places: {Show(known)} by {known.Source}, and {Show(hint)} by {hint.Source}; keep one.", file);
            return;
        }
        hints[name] = new Disambiguation(known.Object ?? hint.Object, known.Position ?? hint.Position, known.Source);
    }

    private static string Show(Disambiguation d) =>
        $"{d.Object ?? "any object"} position {(d.Position is { } p ? p.ToString(CultureInfo.InvariantCulture) : "unspecified")}";

    /// <summary>Undefined names the module loader accepts without a definition (ignore_undef_symbol).</summary>
    private static bool IgnoredByLoader(ElfMachine machine, string name) =>
        machine == ElfMachine.I386 && name == "_GLOBAL_OFFSET_TABLE_" ||
        machine == ElfMachine.Ppc64 && name is ".TOC." or "TOC.";
}
