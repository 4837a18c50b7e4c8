using System.Security.Cryptography;
using System.Text;
using Klp.Build.Diagnostics;
using Klp.Build.Kernels;

namespace Klp.Build.Symbols;

/// <summary>
/// A target kernel's symbol map, kept in a directory of the kernel cache: symbols.klp (klp-convert's text
/// format, for the converter and for people) and symbols.bin (<see cref="SymbolMapBinary"/>: fast reloads, with
/// addresses, kinds and sections). The map is made again only when its inputs change: the key covers every
/// input file's path, size and modification time, and the kallsyms options. Files appear by atomic rename and a
/// lock file keeps two builds from generating the same map at once.
/// </summary>
public sealed class SymbolMapCache(string directory, Func<SymbolMapInputs, DiagnosticBag, CancellationToken, KernelSymbolMap?>? generate = null)
{
    public const string TextFileName = "symbols.klp";
    public const string BinaryFileName = "symbols.bin";

    private readonly Func<SymbolMapInputs, DiagnosticBag, CancellationToken, KernelSymbolMap?> _generate = generate ?? SymbolMapGenerator.Generate;

    /// <summary>The cache entry of a Debian release's package version: kernels/&lt;release&gt;/&lt;version&gt;/symbols.</summary>
    public static SymbolMapCache ForKernel(KernelCache cache, string release, string version) =>
        new(Path.Combine(cache.KernelDirectory(release, version), "symbols"));

    public string Directory { get; } = directory;
    public string TextPath => Path.Combine(Directory, TextFileName);
    public string BinaryPath => Path.Combine(Directory, BinaryFileName);

    /// <summary>True when the last <see cref="GetOrCreate"/> was served from the cache.</summary>
    public bool LastWasHit { get; private set; }

    /// <summary>The map for these inputs: from the cache when it is up to date, else generated and stored.</summary>
    public KernelSymbolMap? GetOrCreate(SymbolMapInputs inputs, DiagnosticBag diagnostics, CancellationToken cancellationToken = default)
    {
        var key = Key(inputs);
        if (TryLoad(key) is { } cached)
        {
            LastWasHit = true;
            return cached;
        }
        System.IO.Directory.CreateDirectory(Directory);
        using (FileLock.Acquire(Path.Combine(Directory, "symbols.lock"), cancellationToken))
        {
            if (TryLoad(key) is { } other) // another build made it while we waited
            {
                LastWasHit = true;
                return other;
            }
            LastWasHit = false;
            var map = _generate(inputs, diagnostics, cancellationToken);
            if (map is null) return null;
            map.WriteFile(TextPath);
            AtomicFile.Write(BinaryPath, stream => SymbolMapBinary.Write(map, key, stream));
            return map;
        }
    }

    private KernelSymbolMap? TryLoad(string key) =>
        SymbolMapBinary.ReadKey(BinaryPath) == key && File.Exists(TextPath) && SymbolMapBinary.Read(BinaryPath, out var stored) is { } map && stored == key
            ? map : null;

    /// <summary>A digest of the inputs: paths, sizes and modification times of vmlinux and every module, and the options.</summary>
    public static string Key(SymbolMapInputs inputs)
    {
        var text = new StringBuilder();
        text.Append("format=").Append(SymbolMapBinary.FormatVersion).Append(";generator=1;").Append(inputs.Options.Key).Append('\n');
        foreach (var path in inputs.ModuleFiles.Prepend(inputs.Vmlinux))
        {
            var info = new FileInfo(path);
            text.Append(Path.GetFullPath(path)).Append('\t');
            if (info.Exists) text.Append(info.Length).Append('\t').Append(info.LastWriteTimeUtc.Ticks);
            else text.Append("missing");
            text.Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
