using Klp.Build.Diagnostics;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>Copies the finished module into the output directory by rename, so bin/ never holds half a module.</summary>
public sealed class PublishKernelModule : KlpTask
{
    [Required] public string SourceFile { get; set; } = "";
    [Required] public string DestinationFile { get; set; } = "";

    protected override void Run(DiagnosticBag diagnostics)
    {
        if (!File.Exists(SourceFile))
        {
            diagnostics.Error("KLP2005", $"the build's previous steps (kbuild, conversion) finished without writing {SourceFile}: build with -v:n (and -p:KbuildVerbose=true) to see what they did.");
            return;
        }
        AtomicFile.Copy(SourceFile, DestinationFile);
        File.SetLastWriteTimeUtc(DestinationFile, DateTime.UtcNow);
    }
}
