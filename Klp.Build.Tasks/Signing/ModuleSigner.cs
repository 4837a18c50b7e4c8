using Klp.Build.Diagnostics;
using Klp.Build.Kernels;
using Klp.Build.Processes;

namespace Klp.Build.Signing;

public static class SigningCodes
{
    public const string KeyMissing = "KLP6001";
    public const string SignFileMissing = "KLP6002";
    public const string SignFileFailed = "KLP6003";
    public const string VerificationFailed = "KLP6004";
    public const string UnsignedForTargetThatForces = "KLP6005";
}

public sealed record SigningResult(ModuleSignature Signature, string HashAlgorithm);

/// <summary>
/// Signs a module with the target kernel's own scripts/sign-file (as kbuild's modules_sign does), then reads the
/// appended signature back and checks it against the certificate before the signed file replaces anything.
/// </summary>
public sealed class ModuleSigner(string kernelBuildDirectory)
{
    public string SignFile => Path.Combine(kernelBuildDirectory, "scripts", "sign-file");

    /// <summary>The target's CONFIG_MODULE_SIG_HASH, or sha256 when its .config names none.</summary>
    public string DefaultHashAlgorithm()
    {
        var config = Path.Combine(kernelBuildDirectory, ".config");
        return File.Exists(config) && KernelConfig.Load(config)["CONFIG_MODULE_SIG_HASH"] is { Length: > 0 } hash ? hash : "sha256";
    }

    /// <summary>Whether the target refuses unsigned modules (CONFIG_MODULE_SIG_FORCE=y).</summary>
    public bool TargetForcesSignatures()
    {
        var config = Path.Combine(kernelBuildDirectory, ".config");
        return File.Exists(config) && KernelConfig.Load(config).IsEnabled("CONFIG_MODULE_SIG_FORCE");
    }

    public SigningResult? Sign(string inputModule, string outputModule, string? key, string? certificate, string? hashAlgorithm,
        DiagnosticBag diagnostics, string? projectFile, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(key) || string.IsNullOrEmpty(certificate))
        {
            diagnostics.Error(SigningCodes.KeyMissing, $"module signing needs both ModuleSigningKey and ModuleSigningCertificate; {(string.IsNullOrEmpty(key) ? "ModuleSigningKey" : "ModuleSigningCertificate")} is not set.", projectFile);
            return null;
        }
        // sign-file also takes a PKCS#11 URI for the key (a token or HSM); only a path can be checked here.
        var keyIsUri = key.StartsWith("pkcs11:", StringComparison.Ordinal);
        foreach (var (property, path) in new[] { ("ModuleSigningKey", keyIsUri ? null : key), ("ModuleSigningCertificate", certificate) })
            if (path is not null && !File.Exists(path))
                diagnostics.Error(SigningCodes.KeyMissing, $"{property} names '{path}', which does not exist.", projectFile);
        if (diagnostics.HasErrors) return null;
        if (!File.Exists(SignFile))
        {
            diagnostics.Error(SigningCodes.SignFileMissing, $"the target kernel's tree has no scripts/sign-file ({SignFile}): install its kbuild tools (Debian: linux-kbuild-<version>) or point KernelDir at a tree that has them.", projectFile);
            return null;
        }
        var hash = string.IsNullOrEmpty(hashAlgorithm) ? DefaultHashAlgorithm() : hashAlgorithm;

        var temporary = outputModule + ".signing";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputModule))!);
        try
        {
            var run = ProcessRunner.Run(SignFile, [hash, keyIsUri ? key : Path.GetFullPath(key), Path.GetFullPath(certificate), Path.GetFullPath(inputModule), temporary],
                environment: new Dictionary<string, string?> { ["LC_ALL"] = "C" }, timeout: TimeSpan.FromMinutes(2), cancellationToken: cancellationToken);
            if (!run.Succeeded)
            {
                var output = (run.StandardError + run.StandardOutput).Trim();
                diagnostics.Error(SigningCodes.SignFileFailed, $"sign-file failed (exit {run.ExitCode}) signing {inputModule} with {hash}: {(output.Length == 0 ? "no output" : output.ReplaceLineEndings(" | "))}", projectFile);
                return null;
            }
            var bytes = File.ReadAllBytes(temporary);
            var signature = Verify(bytes, inputModule, certificate, hash, diagnostics, projectFile);
            if (signature is null) return null;
            File.Move(temporary, outputModule, overwrite: true);
            return new SigningResult(signature, hash);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>The signed module must be the unsigned one plus a well-formed signature that the certificate verifies.</summary>
    public static ModuleSignature? Verify(byte[] signed, string unsignedModule, string certificate, string hash, DiagnosticBag diagnostics, string? projectFile)
    {
        var signature = ModuleSignature.Read(signed, out var problem);
        if (signature is not null)
        {
            var original = File.ReadAllBytes(unsignedModule);
            if (signature.SignedLength != original.Length || !signed.AsSpan(0, original.Length).SequenceEqual(original))
                problem = "the bytes before the signature are not the module that was signed";
            else if (signature.DigestAlgorithm != hash)
                problem = $"the signature uses {signature.DigestAlgorithm}, not the requested {hash}";
            else
            {
                using var cert = ModuleSignature.LoadCertificate(certificate);
                problem = signature.Verify(signed, cert);
            }
        }
        if (problem is null) return signature;
        diagnostics.Error(SigningCodes.VerificationFailed, $"the signed module does not verify: {problem}.", projectFile);
        return null;
    }
}
