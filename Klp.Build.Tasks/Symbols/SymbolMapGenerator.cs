using Klp.Build.Diagnostics;
using Klp.Build.Kernels;

namespace Klp.Build.Symbols;

/// <summary>What a target kernel's symbol map is made of: vmlinux (with its symbol table) and every module file.</summary>
public sealed record SymbolMapInputs(string Vmlinux, IReadOnlyList<string> ModuleFiles, KallsymsOptions Options)
{
    /// <summary>
    /// vmlinux and every module under <paramref name="modulesDirectory"/> (lib/modules/R, or a kernel tree);
    /// when a module is there both unpacked and compressed, the unpacked file is read.
    /// </summary>
    public static SymbolMapInputs Create(string vmlinux, string? modulesDirectory, KallsymsOptions? options = null) =>
        new(vmlinux, modulesDirectory is null ? [] : FindModules(modulesDirectory), options ?? KallsymsOptions.Default);

    /// <summary>
    /// A Debian target: the -dbg vmlinux (DebianKernelProvider.ProvideDebugVmlinux) and the unpacked
    /// linux-image (ProvideImage): its lib/modules/R, and boot/config-R for the options.
    /// </summary>
    public static SymbolMapInputs ForDebianImage(string vmlinux, string imageRoot, string release) =>
        Create(vmlinux, Path.Combine(imageRoot, "lib", "modules", release), OptionsFrom(Path.Combine(imageRoot, "boot", $"config-{release}")));

    /// <summary>A built kernel tree (KernelDir): its vmlinux, every module built in it, and its .config.</summary>
    public static SymbolMapInputs ForKernelTree(string kernelDirectory) =>
        Create(Path.Combine(kernelDirectory, "vmlinux"), kernelDirectory, OptionsFrom(Path.Combine(kernelDirectory, ".config")));

    private static KallsymsOptions OptionsFrom(string config) =>
        File.Exists(config) ? KallsymsOptions.FromConfig(KernelConfig.Load(config)) : KallsymsOptions.Default;

    public static IReadOnlyList<string> FindModules(string directory)
    {
        if (!Directory.Exists(directory)) return [];
        var files = Directory.EnumerateFiles(directory, "*.ko*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Where(ModuleFile.IsModule)
            .ToList();
        var unpacked = files.Where(f => f.EndsWith(".ko", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        return files
            .Where(f => f.EndsWith(".ko", StringComparison.Ordinal) || !unpacked.Contains(f[..(f.LastIndexOf(".ko", StringComparison.Ordinal) + 3)]))
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}

/// <summary>
/// Builds a target kernel's <see cref="KernelSymbolMap"/>: vmlinux first, in kallsyms order, then one object per
/// module (named as the kernel names it: .modinfo name=, else the file name with '-' as '_'), in the order
/// module_kallsyms_on_each_symbol counts. Modules are read in parallel.
/// </summary>
public static class SymbolMapGenerator
{
    public const string UnreadableCode = "KLP3011";
    public const string DuplicateModuleCode = "KLP3012";

    public static KernelSymbolMap? Generate(SymbolMapInputs inputs, DiagnosticBag diagnostics, CancellationToken cancellationToken = default)
    {
        var modules = new (SymbolMapObject? Object, string? Error)[inputs.ModuleFiles.Count];
        var vmlinux = Task.Run(() => ReadVmlinux(inputs.Vmlinux, inputs.Options, out var error) is { } o ? (o, null) : ((SymbolMapObject?)null, error), cancellationToken);

        // Work items: a single file, or a batch of .xz modules that one xz process decompresses (spawning xz
        // once per module costs more than decompressing it).
        var single = new List<int>();
        var xz = new List<(int Index, long Size)>();
        for (var i = 0; i < modules.Length; i++)
        {
            if (inputs.ModuleFiles[i].EndsWith(".xz", StringComparison.Ordinal) && ModuleFile.XzUncompressedSize(inputs.ModuleFiles[i]) is { } size and < int.MaxValue)
                xz.Add((i, size));
            else single.Add(i);
        }
        var batchSize = Math.Max(16, xz.Count / (Environment.ProcessorCount * 8) + 1);
        var work = single.Select(i => new[] { (Index: i, Size: -1L) }).Concat(xz.Chunk(batchSize)).ToList();
        Parallel.ForEach(work,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            item =>
            {
                if (item[0].Size < 0)
                {
                    var i = item[0].Index;
                    modules[i] = ReadModule(inputs.ModuleFiles[i], inputs.Options, out var error) is { } o ? (o, null) : (null, error);
                    return;
                }
                ModuleFile.ReadXzBatch(item.Select(x => inputs.ModuleFiles[x.Index]).ToList(), item.Select(x => x.Size).ToList(), (j, data, error) =>
                {
                    var i = item[j].Index;
                    modules[i] = data is null ? (null, error) : FromModuleBytes(inputs.ModuleFiles[i], data, inputs.Options, out var e) is { } o ? (o, null) : (null, e);
                });
            });
        var (kernel, kernelError) = vmlinux.GetAwaiter().GetResult();
        if (kernel is null)
        {
            diagnostics.Error(UnreadableCode, $"cannot read the symbol table of {inputs.Vmlinux}: {kernelError}. Use the vmlinux of the kernel's -dbg package or of its build tree (not vmlinuz).", inputs.Vmlinux);
            return null;
        }
        var objects = new List<SymbolMapObject> { kernel };
        var seen = new Dictionary<string, string>(StringComparer.Ordinal) { [KernelSymbolMap.Vmlinux] = inputs.Vmlinux };
        var ordered = modules.Select((m, i) => (m.Object, m.Error, Path: inputs.ModuleFiles[i]))
            .OrderBy(m => m.Object?.Name, StringComparer.Ordinal).ThenBy(m => m.Path, StringComparer.Ordinal);
        foreach (var (obj, error, path) in ordered)
        {
            if (obj is null)
            {
                diagnostics.Warning(UnreadableCode, $"skipped module {path} in the symbol map: {error}.", path);
                continue;
            }
            if (seen.TryGetValue(obj.Name, out var first))
            {
                diagnostics.Warning(DuplicateModuleCode, $"module {path} has the same name '{obj.Name}' as {first}: the symbol map lists only the first.", path);
                continue;
            }
            seen[obj.Name] = path;
            objects.Add(obj);
        }
        return new KernelSymbolMap(objects);
    }

    /// <summary>vmlinux's symbols in kallsyms order, or null with an error message.</summary>
    public static SymbolMapObject? ReadVmlinux(string path, KallsymsOptions options, out string? error)
    {
        ScannedSection[] sections;
        ScannedSymbol[] symbols;
        try
        {
            error = ElfSymbolScanner.ScanFile(path, out sections, out symbols, out _);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = e.Message;
            return null;
        }
        if (error is not null) return null;
        if (symbols.Length == 0)
        {
            error = "it has no symbol table (stripped)";
            return null;
        }
        var systemMap = VmlinuxKallsyms.SystemMap(sections, symbols);
        return new SymbolMapObject(KernelSymbolMap.Vmlinux, VmlinuxKallsyms.FromSystemMap(systemMap, options));
    }

    /// <summary>A module's symbols in core kallsyms order, or null with an error message.</summary>
    public static SymbolMapObject? ReadModule(string path, KallsymsOptions options, out string? error)
    {
        ScannedSection[] sections;
        ScannedSymbol[] symbols;
        string? name;
        if (path.EndsWith(".ko", StringComparison.Ordinal))
        {
            // Uncompressed: read only the headers, .symtab, the string tables and .modinfo.
            try
            {
                error = ElfSymbolScanner.ScanFile(path, out sections, out symbols, out name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = e.Message;
                return null;
            }
        }
        else
        {
            var (data, readError) = ModuleFile.Read(path);
            if (data is null)
            {
                error = readError;
                return null;
            }
            return FromModuleBytes(path, data, options, out error);
        }
        return error is null ? ModuleObject(path, sections, symbols, name, options) : null;
    }

    private static SymbolMapObject? FromModuleBytes(string path, byte[] data, KallsymsOptions options, out string? error)
    {
        error = ElfSymbolScanner.Scan(data, out var sections, out var symbols, out var name);
        return error is null ? ModuleObject(path, sections, symbols, name, options) : null;
    }

    private static SymbolMapObject ModuleObject(string path, ScannedSection[] sections, ScannedSymbol[] symbols, string? name, KallsymsOptions options)
    {
        var core = ModuleKallsyms.CoreSymbols(sections, symbols, options, out var unstable);
        return new SymbolMapObject(string.IsNullOrEmpty(name) ? KernelModuleIndex.NameOf(path) : name.Replace('-', '_'), core, unstable);
    }
}
