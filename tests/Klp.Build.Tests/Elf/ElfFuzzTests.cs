using System.Diagnostics;
using Klp.Build.Diagnostics;
using Klp.Build.Elf;
using Klp.Build.Tests.Support;
using Xunit.Abstractions;

namespace Klp.Build.Tests.Elf;

/// <summary>
/// Seeded mutation fuzzing: corrupted variants of real modules and small objects go through every stage that
/// consumes ELF; a fault may only ever come back as a diagnostic, never as an exception or a hang.
/// </summary>
public sealed class ElfFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20240601;
    private const int VariantsPerInput = 1500;

    /// <summary>
    /// Everything run on a file the reader accepted. HOOK: add the livepatch converter (and later the analyses) here,
    /// e.g. ("convert", (file, d) => Converter.Convert(file, symbolMap, d)), so the fuzz loop covers them too.
    /// </summary>
    internal static readonly List<(string Name, Action<ElfFile, DiagnosticBag> Run)> Stages =
    [
        ("write", (file, d) => ElfWriter.ToBytes(file, d)),
        ("modinfo+notes", (file, d) =>
        {
            ElfModInfo.Read(file);
            _ = ElfNotes.ReadAll(file, d).Count();
            foreach (var r in file.Sections.OfType<ElfRelocationTable>().SelectMany(t => t.Entries).Take(100))
                ElfRelocationTypes.Describe(file.Machine, r.Type);
        }),
        ("edit+write+reread", EditWriteAndReread),
        ("convert", Convert),
    ];

    /// <summary>A small map naming symbols the sample modules use, so corrupted modules reach every converter path.</summary>
    private static readonly Klp.Build.Symbols.KernelSymbolMap FuzzMap = Klp.Build.Symbols.KernelSymbolMap.Read(new StringReader(
        "klp-convert-symbol-data.0.1\n*vmlinux\nprintk\n_printk\nkfree\nkmalloc_caches\n__fentry__\n__x86_return_thunk\nmemcpy\nmemcpy\n" +
        "__stack_chk_fail\nmutex_lock\n*ext4\nkfree\nmutex_unlock\n"), "fuzz.map", new DiagnosticBag())!;

    private static void Convert(ElfFile file, DiagnosticBag diagnostics)
    {
        // Everything the map does not name counts as exported, so that conversions succeed and get written too.
        var exports = Klp.Build.Conversion.ExportedSymbols.Empty;
        exports.Add("__fentry__");
        foreach (var symbol in file.SymbolTable?.Symbols ?? [])
            if (symbol.IsUndefined && symbol.Name.Length > 0 && FuzzMap.FindEverywhere(symbol.Name).Count == 0) exports.Add(symbol.Name);
        var options = new Klp.Build.Conversion.ConversionOptions { Positions = [new("memcpy", "vmlinux", 2)] };
        var report = Klp.Build.Conversion.LivepatchConverter.Convert(file, FuzzMap, exports, options, diagnostics);
        if (!report.Succeeded) return;
        var bytes = ElfWriter.ToBytes(file, diagnostics);
        if (bytes is not null) ElfReader.Read(bytes, file.Name + " (converted)", diagnostics);
    }

    [Fact]
    public void CorruptedModulesNeverThrow()
    {
        var release = TestKernels.NewestRelease("6.1");
        var root = Path.Combine(TestKernels.ImageRoot(release), "lib", "modules", release, "kernel");
        var inputs = Directory.GetFiles(root, "*.ko", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Where(p => new FileInfo(p).Length is > 8_000 and < 40_000)
            .Take(3)
            .Select(p => (Name: Path.GetFileName(p), Bytes: File.ReadAllBytes(p)))
            .ToList();
        using (var tools = new Binutils())
        {
            foreach (var variant in new[] { "i386", "s390x", "ppc32be" })
                inputs.Add((variant + ".o", File.ReadAllBytes(ElfReadelfComparisonTests.Build(tools, variant))));
        }

        var clock = Stopwatch.StartNew();
        var failures = new List<string>();
        int accepted = 0, rejected = 0, identical = 0;
        var random = new Random(Seed);
        foreach (var (name, original) in inputs)
        {
            for (var n = 0; n < VariantsPerInput; n++)
            {
                var mutation = random.Next(7);
                var bytes = Mutate(original, mutation, random);
                var label = $"{name} variant {n} (mutation {mutation}, seed {Seed})";
                var diagnostics = new DiagnosticBag();
                try
                {
                    var file = ElfReader.Read(bytes, label, diagnostics);
                    if (file is null)
                    {
                        rejected++;
                        if (!diagnostics.HasErrors) failures.Add($"{label}: rejected without an error diagnostic");
                        continue;
                    }
                    accepted++;
                    var written = ElfWriter.ToBytes(file, diagnostics);
                    if (written is not null && written.AsSpan().SequenceEqual(bytes)) identical++;
                    foreach (var (stage, run) in Stages)
                    {
                        var again = ElfReader.Read(bytes, label, new DiagnosticBag());
                        if (again is null) failures.Add($"{label}: read once, not twice");
                        else run(again, diagnostics);
                    }
                }
                catch (Exception e)
                {
                    failures.Add($"{label}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                }
                if (failures.Count > 10) break;
            }
        }
        output.WriteLine($"{inputs.Count} inputs × {VariantsPerInput} variants in {clock.ElapsedMilliseconds} ms: " +
                         $"{accepted} accepted ({identical} written back identical), {rejected} rejected with a diagnostic");
        failures.ShouldBeEmpty();
        clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60));
    }

    private static void EditWriteAndReread(ElfFile file, DiagnosticBag diagnostics)
    {
        var symtab = file.SymbolTable;
        var target = file.Sections.FirstOrDefault(s => s.Flags.HasFlag(ElfSectionFlags.ExecInstr));
        if (symtab?.Strings is null || target is null || file.SectionNames is null) return;
        var symbol = symtab.Add(new ElfSymbol { Name = ".klp.sym.vmlinux.fuzz,0", Bind = ElfSymbolBind.Global, SpecialSectionIndex = ElfSectionIndex.Livepatch });
        symtab.Add(new ElfSymbol { Name = "fuzz_local", Section = target });
        var rela = file.AddSection(new ElfRelocationTable
        {
            Name = ".klp.rela.vmlinux." + target.Name,
            Flags = ElfSectionFlags.Alloc | ElfSectionFlags.InfoLink | ElfSectionFlags.RelaLivepatch,
            Alignment = 8, SymbolTable = symtab, Target = target,
        });
        rela.Entries.Add(new ElfRelocation { Offset = 1, Symbol = symbol, Type = 2, Addend = -4 });
        var removable = file.Sections.FirstOrDefault(s => s.Name == ".comment");
        if (removable is not null) file.RemoveSection(removable);
        var bytes = ElfWriter.ToBytes(file, diagnostics);
        if (bytes is not null) ElfReader.Read(bytes, file.Name + " (edited)", diagnostics);
    }

    private static readonly ulong[] Interesting =
        [0, 1, 2, 7, 8, 0x18, 0x40, 0xff, 0x100, 0x7fff, 0xff00, 0xff20, 0xfff1, 0xffff, 0x10000, 0x7fffffff, 0xffffffff, 0x100000000, ulong.MaxValue, ulong.MaxValue - 7];

    private static byte[] Mutate(byte[] original, int mutation, Random random)
    {
        var bytes = (byte[])original.Clone();
        if (bytes.Length < 64) return bytes.Length == 0 ? bytes : bytes[..random.Next(bytes.Length)];
        var is64 = bytes[4] == 2;
        var big = bytes[5] == 2;
        var shoff = (int)Math.Min((ulong)bytes.Length, is64 ? Read(bytes, 0x28, 8, big) : Read(bytes, 0x20, 4, big));
        var shentsize = is64 ? 64 : 40;
        var shnum = (int)Read(bytes, is64 ? 0x3c : 0x30, 2, big);
        switch (mutation)
        {
            case 0: // random byte flips anywhere
                for (var i = random.Next(1, 9); i > 0; i--) bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
                break;
            case 1: // ELF header fields
                Write(bytes, random.Next(16, is64 ? 62 : 50) & ~1, random.Next(2) == 0 ? 2 : 4, Pick(random, bytes.Length), big);
                break;
            case 2: // truncation
                return bytes[..random.Next(bytes.Length)];
            case 3 or 4: // a section header field: name, type, flags, offset, size, link, info, entsize...
            {
                if (shnum == 0 || shoff >= bytes.Length) goto case 0;
                var index = random.Next(shnum);
                int[] offsets64 = [0, 4, 8, 16, 24, 32, 40, 44, 48, 56];
                int[] offsets32 = [0, 4, 8, 12, 16, 20, 24, 28, 32, 36];
                int[] widths64 = [4, 4, 8, 8, 8, 8, 4, 4, 8, 8];
                var field = random.Next(10);
                var at = shoff + index * shentsize + (is64 ? offsets64[field] : offsets32[field]);
                var width = is64 ? widths64[field] : 4;
                if (at + width <= bytes.Length) Write(bytes, at, width, Pick(random, bytes.Length), big);
                break;
            }
            case 5: // a word inside the section header table or right before it (symbols, relocations, strings)
            {
                var start = Math.Max(0, shoff - 4096);
                var at = random.Next(start, Math.Max(start + 1, bytes.Length - 8));
                Write(bytes, at, random.Next(2) == 0 ? 2 : 4, Pick(random, bytes.Length), big);
                break;
            }
            default: // several mutations at once
                for (var i = random.Next(2, 5); i > 0; i--) bytes = Mutate(bytes, random.Next(6), random);
                break;
        }
        return bytes;
    }

    private static ulong Pick(Random random, int length) => random.Next(4) switch
    {
        0 => (ulong)random.NextInt64(),
        1 => (ulong)length - (ulong)random.Next(0, 64),
        _ => Interesting[random.Next(Interesting.Length)],
    };

    private static ulong Read(byte[] b, int at, int width, bool big)
    {
        ulong v = 0;
        for (var i = 0; i < width; i++) v |= (ulong)b[at + i] << (8 * (big ? width - 1 - i : i));
        return v;
    }

    private static void Write(byte[] b, int at, int width, ulong value, bool big)
    {
        for (var i = 0; i < width && at + i < b.Length; i++) b[at + i] = (byte)(value >> (8 * (big ? width - 1 - i : i)));
    }
}
