using System.Diagnostics;
using Klp.Build.Diagnostics;
using Klp.Build.Dwarf;

namespace Klp.Build.Benchmarks;

/// <summary>
/// DWARF index of the debug vmlinux, each path once with a Stopwatch: loading the sections, the cold index build,
/// the cache fill, warm loads and lookups. `--quick --dwarf` runs only this part; `--dwarf-dump FILE NAME...`
/// prints what the index says about some functions (for looking at a file by hand).
/// </summary>
internal static class DwarfQuick
{
    public static void Run(string vmlinux)
    {
        Console.WriteLine($"DWARF index of {vmlinux} ({new FileInfo(vmlinux).Length / 1048576.0:F0} MiB), cores: {Environment.ProcessorCount}");
        var directory = Directory.CreateTempSubdirectory("klp-bench-dwarf-").FullName;
        try
        {
            var watch = Stopwatch.StartNew();
            var diagnostics = new DiagnosticBag();
            var sections = DwarfSections.Load(vmlinux, diagnostics)!;
            Report($"load .debug_* sections (.debug_info {sections.Info.Length / 1048576.0:F0} MiB)", watch.Elapsed);
            for (var i = 0; i < 2; i++)
            {
                watch.Restart();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var index = DwarfIndex.Build(sections, diagnostics);
                Report($"cold index build #{i + 1} (cpu {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:F0} ms)", watch.Elapsed);
                if (i == 0)
                    Console.WriteLine($"  units {index.CompileUnitCount}, functions {index.FunctionCount}, inlined copies {index.InlinedCopyCount}, " +
                                      $"diagnostics {diagnostics.Items.Count}, managed heap {GC.GetTotalMemory(false) / 1048576.0:F0} MiB");
            }
            sections = null;
            foreach (var d in diagnostics.Items.Take(5)) Console.WriteLine("  " + d);

            watch.Restart();
            var cache = new DwarfIndexCache(directory);
            cache.GetOrCreate(vmlinux, new DiagnosticBag());
            Report("cold cache fill (load + build + write dwarf.bin)", watch.Elapsed);
            Console.WriteLine($"  {DwarfIndexCache.BinaryFileName} {new FileInfo(cache.BinaryPath).Length / 1048576.0:F1} MiB");
            for (var i = 0; i < 3; i++)
            {
                watch.Restart();
                var warm = new DwarfIndexCache(directory);
                var index = warm.GetOrCreate(vmlinux, new DiagnosticBag())!;
                var loaded = watch.Elapsed;
                var copies = index.FindInlinedCopies("show_val_kb").Count;
                var cmdline = index.FindFunctions("cmdline_proc_show").Single(f => f.HasCode).Prototype;
                Report($"warm load (hit={warm.LastWasHit}) {loaded.TotalMilliseconds:F0} ms + lookups (show_val_kb x{copies}, {cmdline})", watch.Elapsed);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public static void Dump(string file, IEnumerable<string> names)
    {
        var diagnostics = new DiagnosticBag();
        var watch = Stopwatch.StartNew();
        var index = DwarfIndex.Build(file, diagnostics);
        Console.WriteLine($"built in {watch.ElapsedMilliseconds} ms: {index?.FunctionCount} functions, {index?.InlinedCopyCount} inlined copies");
        foreach (var d in diagnostics.Items) Console.WriteLine(d);
        if (index is null) return;
        foreach (var p in index.Producers.Take(3)) Console.WriteLine("producer: " + p);
        foreach (var name in names)
        {
            foreach (var f in index.FindFunctions(name))
            {
                Console.WriteLine($"{f} file={f.DeclFile}:{f.DeclLine} ext={f.IsExternal} decl={f.IsDeclaration} inline={f.Inline} concrete={f.IsConcreteInstance} ranges={string.Join(",", f.Ranges)} die=0x{f.DieOffset:x}");
                if (f.ConcreteParameters is { } cp)
                    Console.WriteLine("   concrete: " + string.Join(", ", cp.Select(p => $"{p}{(p.HasLocation ? "" : p.IsConstant ? " =const" : " <gone>")}")));
            }
            foreach (var x in index.FindInlinedCopies(name).Take(10)) Console.WriteLine("   " + x);
        }
    }

    private static void Report(string what, TimeSpan time) => Console.WriteLine($"{what,-100} {time.TotalMilliseconds,8:F0} ms");
}
