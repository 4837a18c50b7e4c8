using Klp.Build.Diagnostics;
using Klp.Build.Signing;
using Microsoft.Build.Framework;

namespace Klp.Build.Tasks;

/// <summary>Signs the converted, analysed module with the target's sign-file and verifies the appended signature.</summary>
public sealed class SignKernelModule : KlpTask
{
    [Required] public string KernelBuildDirectory { get; set; } = "";
    [Required] public string InputModule { get; set; } = "";
    [Required] public string OutputModule { get; set; } = "";
    public string? Key { get; set; }
    public string? Certificate { get; set; }
    public string? HashAlgorithm { get; set; }

    protected override string? StepName => "sign";

    protected override void Run(DiagnosticBag diagnostics)
    {
        StepLine.LogFiles(Log, "input", [InputModule, Certificate]);
        var result = new ModuleSigner(KernelBuildDirectory).Sign(InputModule, OutputModule, Key, Certificate, HashAlgorithm, diagnostics, ProjectFile, CancellationToken);
        if (result is null) return;
        var signer = result.Signature.Signer.Length > 0 ? result.Signature.Signer : "key id " + Convert.ToHexString(result.Signature.SubjectKeyIdentifier ?? []);
        StepDetail = $"Signed {Path.GetFileName(OutputModule)}: signer '{signer}', {result.HashAlgorithm}, serial {result.Signature.SerialNumber}";
        StepLine.LogFiles(Log, "output", [OutputModule]);
    }
}

/// <summary>Says once per build that the module is left unsigned; a warning when the target refuses unsigned modules.</summary>
public sealed class ReportUnsignedModule : KlpTask
{
    [Required] public string KernelBuildDirectory { get; set; } = "";

    protected override void Run(DiagnosticBag diagnostics)
    {
        const string how = "set ModuleSigningKey and ModuleSigningCertificate to sign it";
        if (new ModuleSigner(KernelBuildDirectory).TargetForcesSignatures())
            diagnostics.Warning(SigningCodes.UnsignedForTargetThatForces, $"the module is not signed and the target kernel enforces module signatures (CONFIG_MODULE_SIG_FORCE=y), so it will refuse to load it: {how}.", ProjectFile);
        else
            Log.LogMessage(MessageImportance.Normal, $"The module is not signed ({how}); loading it taints the kernel (E).");
    }
}
