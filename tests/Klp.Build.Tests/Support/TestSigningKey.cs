using Klp.Build.Processes;

namespace Klp.Build.Tests.Support;

/// <summary>
/// A throwaway module signing key and certificate made with openssl, as the kernel's certs/Makefile makes
/// signing_key.pem (x509 extensions of certs/default_x509.genkey), valid one day. Never a key from the repository.
/// </summary>
public sealed class TestSigningKey : IDisposable
{
    public string Directory { get; }
    public string Key => Path.Combine(Directory, "key.pem");
    public string Certificate => Path.Combine(Directory, "cert.pem");
    public string CommonName { get; }

    public TestSigningKey(string commonName = "Klp.Build throwaway test key")
    {
        CommonName = commonName;
        Directory = System.IO.Directory.CreateTempSubdirectory("klp-signing-key-").FullName;
        var config = Path.Combine(Directory, "x509.genkey");
        File.WriteAllText(config, $"""
            [ req ]
            default_bits = 2048
            distinguished_name = req_distinguished_name
            prompt = no
            string_mask = utf8only
            x509_extensions = myexts

            [ req_distinguished_name ]
            O = Klp.Build tests
            CN = {commonName}

            [ myexts ]
            basicConstraints=critical,CA:FALSE
            keyUsage=digitalSignature
            subjectKeyIdentifier=hash
            authorityKeyIdentifier=keyid

            """);
        var openssl = ProcessRunner.FindOnPath("openssl") ?? throw new InvalidOperationException("openssl is not installed: run eng/install-prerequisites.sh");
        var result = ProcessRunner.Run(openssl, ["req", "-new", "-nodes", "-utf8", "-sha256", "-days", "1", "-batch", "-x509",
            "-config", config, "-outform", "PEM", "-out", Certificate, "-keyout", Key], Directory, timeout: TimeSpan.FromMinutes(1));
        if (!result.Succeeded) throw new InvalidOperationException("openssl req failed: " + result.StandardError);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
