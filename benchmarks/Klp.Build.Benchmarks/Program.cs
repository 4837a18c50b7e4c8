using System.Diagnostics;
using BenchmarkDotNet.Running;
using Klp.Build.Benchmarks;
using Klp.Build.Diagnostics;
using Klp.Build.Symbols;

if (args.Length > 0 && args[0] == "--dwarf-dump")
{
    DwarfQuick.Dump(args[1], args.Skip(2));
    return;
}
if (args.Length > 0 && args[0] == "--noop")
{
    NoopBuild.Run(args.Length > 1 && int.TryParse(args[1], out var runs) ? runs : 7, args.Length > 2 ? args[2] : "cmdline");
    return;
}
if (args.Contains("--quick"))
{
    if (!args.Contains("--dwarf")) Quick.Run();
    DwarfQuick.Run(Environment.GetEnvironmentVariable("KLP_VMLINUX") ?? KernelInputs.Find().Vmlinux);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(SymbolMapBenchmarks).Assembly).Run(args);

/// <summary>Each path once with a Stopwatch: cold generation, warm load, and nm over the same files.</summary>
internal static class Quick
{
    public static void Run()
    {
        var inputs = KernelInputs.Find();
        Console.WriteLine($"vmlinux: {inputs.Vmlinux}\nmodules: {inputs.ModuleFiles.Count}\ncores: {Environment.ProcessorCount}");
        var directory = Directory.CreateTempSubdirectory("klp-bench-").FullName;
        try
        {
            // JIT warm-up on a handful of modules, so the cold number is the work and not the JIT.
            SymbolMapGenerator.Generate(inputs with { ModuleFiles = inputs.ModuleFiles.Take(20).ToList() }, new DiagnosticBag());

            var watch = Stopwatch.StartNew();
            for (var i = 0; i < 3; i++)
            {
                watch.Restart();
                ElfSymbolScanner.ScanFile(inputs.Vmlinux, out var sections, out var symbols, out _);
                var scan = watch.Elapsed;
                var systemMap = VmlinuxKallsyms.SystemMap(sections, symbols);
                var mksysmap = watch.Elapsed;
                VmlinuxKallsyms.FromSystemMap(systemMap, inputs.Options);
                Console.WriteLine($"vmlinux: scan {scan.TotalMilliseconds:F0} ms, System.map {(mksysmap - scan).TotalMilliseconds:F0} ms, kallsyms {(watch.Elapsed - mksysmap).TotalMilliseconds:F0} ms");
            }
            for (var i = 0; i < (Environment.GetEnvironmentVariable("KLP_BENCH_SINGLE") == "0" ? 0 : 2); i++)
            {
                watch.Restart();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                foreach (var module in inputs.ModuleFiles) SymbolMapGenerator.ReadModule(module, inputs.Options, out _);
                Report($"modules one thread (cpu {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds:F0} ms)", watch.Elapsed);
            }
            watch.Restart();
            var map = SymbolMapGenerator.Generate(inputs, new DiagnosticBag())!;
            Report("generate (vmlinux + all modules, in memory)", watch.Elapsed);
            Console.WriteLine($"  objects {map.Objects.Count}, symbols {map.Objects.Sum(o => o.Symbols.Count)}");

            for (var i = 0; i < 2; i++)
            {
                watch.Restart();
                map.WriteFile(Path.Combine(directory, "t.klp"));
                var text = watch.Elapsed;
                Klp.Build.AtomicFile.Write(Path.Combine(directory, "t.bin"), stream => SymbolMapBinary.Write(map, "k", stream));
                Console.WriteLine($"write: symbols.klp {text.TotalMilliseconds:F0} ms, symbols.bin {(watch.Elapsed - text).TotalMilliseconds:F0} ms");
            }

            watch.Restart();
            var cache = new SymbolMapCache(directory);
            cache.GetOrCreate(inputs, new DiagnosticBag());
            Report("cold cache fill (generate + write .klp and .bin)", watch.Elapsed);
            Console.WriteLine($"  symbols.klp {new FileInfo(cache.TextPath).Length / 1048576.0:F1} MiB, symbols.bin {new FileInfo(cache.BinaryPath).Length / 1048576.0:F1} MiB");

            for (var i = 0; i < 3; i++)
            {
                watch.Restart();
                var warm = new SymbolMapCache(directory);
                var loaded = warm.GetOrCreate(inputs, new DiagnosticBag())!;
                var hits = loaded.Find(KernelSymbolMap.Vmlinux)!.Occurrences("type_show").Count;
                Report($"warm load + vmlinux lookup (hit={warm.LastWasHit}, type_show x{hits})", watch.Elapsed);
            }

            watch.Restart();
            KernelSymbolMap.Read(cache.TextPath, new DiagnosticBag());
            Report("reading symbols.klp (text) instead", watch.Elapsed);

            if (Klp.Build.Processes.ProcessRunner.FindOnPath("nm") is not null)
            {
                watch.Restart();
                Nm([inputs.Vmlinux]);
                var vmlinuxTime = watch.Elapsed;
                Report("nm vmlinux", vmlinuxTime);
                watch.Restart();
                foreach (var batch in inputs.ModuleFiles.Chunk(500)) Nm(batch);
                Report("nm all modules, one process per 500", watch.Elapsed);
                Report("nm vmlinux + modules, sequential", vmlinuxTime + watch.Elapsed);
                watch.Restart();
                var batches = inputs.ModuleFiles.Chunk((inputs.ModuleFiles.Count + Environment.ProcessorCount - 1) / Environment.ProcessorCount).ToList();
                Parallel.ForEach(batches.Select(b => (IReadOnlyList<string>)b).Prepend([inputs.Vmlinux]), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, b => Nm(b));
                Report($"nm vmlinux + modules, {Environment.ProcessorCount} in parallel", watch.Elapsed);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static void Nm(IReadOnlyList<string> files)
    {
        var start = new ProcessStartInfo("nm") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["LC_ALL"] = "C";
        start.ArgumentList.Add("-n");
        foreach (var file in files) start.ArgumentList.Add(file);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.BaseStream.CopyTo(Stream.Null);
        process.WaitForExit();
        _ = error.Result;
    }

    private static void Report(string what, TimeSpan time) => Console.WriteLine($"{what,-60} {time.TotalMilliseconds,10:F0} ms");
}
