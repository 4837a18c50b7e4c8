using Klp.Build.Diagnostics;
using Klp.Build.Kbuild;
using Klp.Build.Processes;
using Klp.Build.Signing;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Signing;

/// <summary>The real sign-file of a Debian kbuild tree, our reader of what it appends, and kmod's modinfo.</summary>
public sealed class ModuleSignatureTests : IDisposable
{
    private static readonly string Release = TestKernels.NewestRelease("6.1");
    private static string Tree => Path.Combine(TestKbuild.HeadersRoot(Release), "usr", "src", $"linux-headers-{Release}");

    private readonly string _directory = Directory.CreateTempSubdirectory("klp-sign-unit-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    /// <summary>A real module of the target's image, uncompressed and stripped of Debian's own signature.</summary>
    private string UnsignedModule()
    {
        var source = Directory.EnumerateFiles(TestKernels.ImageRoot(Release), "*.ko", SearchOption.AllDirectories).OrderBy(f => new FileInfo(f).Length).First();
        var bytes = File.ReadAllBytes(source);
        if (ModuleSignature.Read(bytes, out _) is { } existing) bytes = bytes[..existing.SignedLength];
        var path = Path.Combine(_directory, "unsigned.ko");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Sign_file_output_reads_back_verifies_and_modinfo_agrees()
    {
        using var key = new TestSigningKey("Klp unit signer");
        var input = UnsignedModule();
        var output = Path.Combine(_directory, "signed.ko");
        var diagnostics = new DiagnosticBag();

        var result = new ModuleSigner(Tree).Sign(input, output, key.Key, key.Certificate, null, diagnostics, null);

        diagnostics.Items.ShouldBeEmpty();
        result.ShouldNotBeNull();
        result.HashAlgorithm.ShouldBe("sha256", "the default is the target's CONFIG_MODULE_SIG_HASH");
        result.Signature.Signer.ShouldBe("Klp unit signer");
        result.Signature.DigestAlgorithm.ShouldBe("sha256");
        result.Signature.SignedLength.ShouldBe((int)new FileInfo(input).Length);
        var modinfo = ProcessRunner.Run("modinfo", [output]);
        modinfo.StandardOutput.ShouldContain("signer:");
        modinfo.StandardOutput.ShouldContain("Klp unit signer");
        modinfo.StandardOutput.ShouldContain("sig_hashalgo:");
        ProcessRunner.Run("modinfo", ["-F", "sig_hashalgo", output]).StandardOutput.Trim().ShouldBe("sha256");
    }

    [Fact]
    public void Signing_twice_with_one_rsa_key_gives_the_same_bytes()
    {
        using var key = new TestSigningKey();
        var input = UnsignedModule();
        var signer = new ModuleSigner(Tree);
        signer.Sign(input, Path.Combine(_directory, "a.ko"), key.Key, key.Certificate, "sha512", new DiagnosticBag(), null).ShouldNotBeNull().HashAlgorithm.ShouldBe("sha512");
        signer.Sign(input, Path.Combine(_directory, "b.ko"), key.Key, key.Certificate, "sha512", new DiagnosticBag(), null).ShouldNotBeNull();
        File.ReadAllBytes(Path.Combine(_directory, "a.ko")).ShouldBe(File.ReadAllBytes(Path.Combine(_directory, "b.ko")));
    }

    [Fact]
    public void A_changed_byte_or_another_certificate_fails_verification()
    {
        using var key = new TestSigningKey();
        using var other = new TestSigningKey("someone else");
        var input = UnsignedModule();
        var output = Path.Combine(_directory, "signed.ko");
        new ModuleSigner(Tree).Sign(input, output, key.Key, key.Certificate, null, new DiagnosticBag(), null).ShouldNotBeNull();
        var signed = File.ReadAllBytes(output);
        var signature = ModuleSignature.Read(signed, out var problem).ShouldNotBeNull(problem);

        using (var certificate = ModuleSignature.LoadCertificate(key.Certificate)) signature.Verify(signed, certificate).ShouldBeNull();
        using (var certificate = ModuleSignature.LoadCertificate(other.Certificate)) signature.Verify(signed, certificate).ShouldNotBeNull();
        var tampered = (byte[])signed.Clone();
        tampered[100] ^= 1;
        using (var certificate = ModuleSignature.LoadCertificate(key.Certificate)) signature.Verify(tampered, certificate).ShouldNotBeNull().ShouldContain("does not match");

        var diagnostics = new DiagnosticBag();
        ModuleSigner.Verify(tampered, input, key.Certificate, "sha256", diagnostics, null).ShouldBeNull();
        diagnostics.Items.Single().Code.ShouldBe("KLP6004");
    }

    [Fact]
    public void Unsigned_and_malformed_signatures_are_reported()
    {
        ModuleSignature.Read(File.ReadAllBytes(UnsignedModule()), out var problem).ShouldBeNull();
        problem.ShouldNotBeNull().ShouldContain("marker");

        var bogus = new byte[64].Concat(new byte[] { 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 8 }).Concat(System.Text.Encoding.ASCII.GetBytes(ModuleSignature.Marker)).ToArray();
        ModuleSignature.Read(bogus, out problem).ShouldBeNull();
        problem.ShouldNotBeNull().ShouldContain("id_type 1");
    }

    [Fact]
    public void Missing_key_missing_sign_file_and_failing_sign_file_have_their_codes()
    {
        using var key = new TestSigningKey();
        var input = UnsignedModule();
        var output = Path.Combine(_directory, "signed.ko");

        var diagnostics = new DiagnosticBag();
        new ModuleSigner(Tree).Sign(input, output, Path.Combine(_directory, "nope.pem"), key.Certificate, null, diagnostics, null).ShouldBeNull();
        diagnostics.Items.Single().Code.ShouldBe("KLP6001");
        diagnostics = new DiagnosticBag();
        new ModuleSigner(Tree).Sign(input, output, key.Key, "", null, diagnostics, null).ShouldBeNull();
        diagnostics.Items.Single().Code.ShouldBe("KLP6001");

        diagnostics = new DiagnosticBag();
        new ModuleSigner(_directory).Sign(input, output, key.Key, key.Certificate, null, diagnostics, null).ShouldBeNull();
        diagnostics.Items.Single().Code.ShouldBe("KLP6002");

        diagnostics = new DiagnosticBag();
        new ModuleSigner(Tree).Sign(input, output, key.Key, key.Certificate, "no-such-digest", diagnostics, null).ShouldBeNull();
        var failure = diagnostics.Items.Single();
        failure.Code.ShouldBe("KLP6003");
        failure.Message.ShouldContain("no-such-digest");
        File.Exists(output).ShouldBeFalse();
    }

    [Fact]
    public void Kbuild_timestamp_is_what_date_prints_for_source_date_epoch()
    {
        ReproducibleBuild.Timestamp(1700000000).ShouldBe("Tue Nov 14 22:13:20 UTC 2023");
        var environment = ReproducibleBuild.Environment("1700000000", [("/a", "."), ("/a/obj/kbuild", ".")], "-O2");
        environment.ShouldContain("KBUILD_BUILD_TIMESTAMP=Tue Nov 14 22:13:20 UTC 2023");
        environment.ShouldContain("KCFLAGS=-O2 -ffile-prefix-map=/a=. -ffile-prefix-map=/a/obj/kbuild=.");
        environment.ShouldContain("SOURCE_DATE_EPOCH=1700000000");
    }
}
