using System.Buffers.Binary;
using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Klp.Build.Signing;

/// <summary>
/// The signature the kernel's sign-file appends to a module (include/linux/module_signature.h):
/// <c>module bytes | PKCS#7 (CMS SignedData, detached) | struct module_signature | "~Module signature appended~\n"</c>.
/// struct module_signature is 12 bytes: algo, hash, id_type (2 = PKEY_ID_PKCS7), signer_len, key_id_len, pad[3],
/// sig_len (big-endian u32); for PKCS#7 everything but id_type and sig_len is zero (kernel/module_signature.c).
/// </summary>
public sealed record ModuleSignature(
    int SignedLength,
    byte[] Pkcs7,
    string DigestAlgorithm,
    string DigestAlgorithmOid,
    string SignatureAlgorithmOid,
    string Signer,
    string IssuerName,
    string SerialNumber,
    byte[]? SubjectKeyIdentifier,
    byte[] SignatureValue,
    byte[]? SignedAttributes)
{
    public const string Marker = "~Module signature appended~\n";
    public const int StructSize = 12;
    public const byte IdPkcs7 = 2;

    private static readonly byte[] MarkerBytes = Encoding.ASCII.GetBytes(Marker);

    /// <summary>Whether the file ends with the signature marker (signed or at least claiming to be).</summary>
    public static bool HasMarker(ReadOnlySpan<byte> module) => module.EndsWith(MarkerBytes);

    /// <summary>The appended signature, or null with the reason it is not a well-formed one.</summary>
    public static ModuleSignature? Read(ReadOnlySpan<byte> module, out string? problem)
    {
        problem = null;
        if (!HasMarker(module))
        {
            problem = $"the module does not end with the marker \"~Module signature appended~\\n\"";
            return null;
        }
        var end = module.Length - MarkerBytes.Length;
        if (end < StructSize)
        {
            problem = "the module is too short to hold struct module_signature before the marker";
            return null;
        }
        var info = module.Slice(end - StructSize, StructSize);
        byte algo = info[0], hash = info[1], idType = info[2], signerLength = info[3], keyIdLength = info[4];
        var signatureLength = BinaryPrimitives.ReadUInt32BigEndian(info[8..]);
        if (idType != IdPkcs7)
        {
            problem = $"struct module_signature has id_type {idType}, not PKEY_ID_PKCS7 ({IdPkcs7})";
            return null;
        }
        if (algo != 0 || hash != 0 || signerLength != 0 || keyIdLength != 0 || info[5] != 0 || info[6] != 0 || info[7] != 0)
        {
            problem = "struct module_signature has non-zero algo/hash/signer_len/key_id_len/pad, which the kernel rejects for PKCS#7";
            return null;
        }
        var pkcs7End = end - StructSize;
        if (signatureLength == 0 || signatureLength > (uint)pkcs7End)
        {
            problem = $"struct module_signature gives sig_len {signatureLength}, but only {pkcs7End} bytes precede it";
            return null;
        }
        var signedLength = pkcs7End - (int)signatureLength;
        var pkcs7 = module.Slice(signedLength, (int)signatureLength).ToArray();
        try
        {
            return Parse(signedLength, pkcs7);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or FormatException or InvalidOperationException)
        {
            problem = $"the PKCS#7 blob ({signatureLength} bytes) is not a CMS SignedData with one signer: {e.Message}";
            return null;
        }
    }

    private static ModuleSignature Parse(int signedLength, byte[] pkcs7)
    {
        // ContentInfo ::= SEQUENCE { contentType OID (signedData), content [0] EXPLICIT SignedData }
        var contentInfo = new AsnReader(pkcs7, AsnEncodingRules.BER).ReadSequence();
        var contentType = contentInfo.ReadObjectIdentifier();
        if (contentType != "1.2.840.113549.1.7.2") throw new FormatException($"content type {contentType} is not signedData");
        var signedData = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, true)).ReadSequence();
        signedData.ReadInteger(); // version
        signedData.ReadSetOf(); // digestAlgorithms
        signedData.ReadSequence(); // encapContentInfo (detached: no content)
        if (signedData.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0))) signedData.ReadEncodedValue(); // certificates
        if (signedData.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 1))) signedData.ReadEncodedValue(); // crls
        var signerInfos = signedData.ReadSetOf();
        var signerInfo = signerInfos.ReadSequence();
        if (signerInfos.HasData) throw new FormatException("more than one SignerInfo");

        signerInfo.ReadInteger(); // version
        string issuerName = "", serial = "", signer = "";
        byte[]? subjectKeyIdentifier = null;
        if (signerInfo.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            subjectKeyIdentifier = signerInfo.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 0));
        }
        else
        {
            var issuerAndSerial = signerInfo.ReadSequence();
            var issuer = new X500DistinguishedName(issuerAndSerial.ReadEncodedValue().ToArray());
            issuerName = issuer.Name;
            signer = CommonName(issuer) ?? issuer.Name;
            serial = Convert.ToHexString(issuerAndSerial.ReadIntegerBytes().Span).ToLowerInvariant();
        }
        var digestAlgorithm = signerInfo.ReadSequence().ReadObjectIdentifier();
        byte[]? signedAttributes = null;
        if (signerInfo.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
        {
            // Signed over the DER SET OF, not the [0] IMPLICIT form that is stored.
            signedAttributes = signerInfo.ReadEncodedValue().ToArray();
            signedAttributes[0] = 0x31;
        }
        var signatureAlgorithm = signerInfo.ReadSequence().ReadObjectIdentifier();
        var signature = signerInfo.ReadOctetString();
        return new ModuleSignature(signedLength, pkcs7, DigestName(digestAlgorithm), digestAlgorithm, signatureAlgorithm,
            signer, issuerName, serial, subjectKeyIdentifier, signature, signedAttributes);
    }

    private static string? CommonName(X500DistinguishedName name)
    {
        foreach (var rdn in name.EnumerateRelativeDistinguishedNames())
            if (rdn.GetSingleElementType().Value == "2.5.4.3") return rdn.GetSingleElementValue();
        return null;
    }

    /// <summary>The kernel's names (CONFIG_MODULE_SIG_HASH, modinfo's sig_hashalgo) for digest OIDs.</summary>
    public static string DigestName(string oid) => oid switch
    {
        "1.3.14.3.2.26" => "sha1",
        "2.16.840.1.101.3.4.2.4" => "sha224",
        "2.16.840.1.101.3.4.2.1" => "sha256",
        "2.16.840.1.101.3.4.2.2" => "sha384",
        "2.16.840.1.101.3.4.2.3" => "sha512",
        "2.16.840.1.101.3.4.2.8" => "sha3-256",
        "2.16.840.1.101.3.4.2.9" => "sha3-384",
        "2.16.840.1.101.3.4.2.10" => "sha3-512",
        _ => oid,
    };

    private static HashAlgorithmName? HashAlgorithm(string name) => name switch
    {
        "sha1" => HashAlgorithmName.SHA1,
        "sha256" => HashAlgorithmName.SHA256,
        "sha384" => HashAlgorithmName.SHA384,
        "sha512" => HashAlgorithmName.SHA512,
        "sha3-256" => HashAlgorithmName.SHA3_256,
        "sha3-384" => HashAlgorithmName.SHA3_384,
        "sha3-512" => HashAlgorithmName.SHA3_512,
        _ => null,
    };

    /// <summary>
    /// Checks the signature over the module's bytes with the certificate's public key (RSA PKCS#1 v1.5 or ECDSA,
    /// what sign-file makes), and that the signer named in the PKCS#7 is that certificate. Null when it holds.
    /// </summary>
    public string? Verify(ReadOnlySpan<byte> module, X509Certificate2 certificate)
    {
        if (SubjectKeyIdentifier is null)
        {
            if (certificate.IssuerName.Name != IssuerName)
                return $"the signature names issuer '{IssuerName}', the certificate's issuer is '{certificate.Issuer}'";
            var certificateSerial = Convert.ToHexString(certificate.SerialNumberBytes.Span).ToLowerInvariant();
            if (Normalize(certificateSerial) != Normalize(SerialNumber))
                return $"the signature names serial {SerialNumber}, the certificate's is {certificateSerial}";
        }
        if (HashAlgorithm(DigestAlgorithm) is not { } hash) return $"digest algorithm {DigestAlgorithm} cannot be checked here";
        var content = module[..SignedLength];
        if (SignedAttributes is not null)
        {
            // With signed attributes the signature covers them; their messageDigest covers the content.
            var digest = CryptographicOperations.HashData(hash, content);
            if (SignedAttributes.AsSpan().IndexOf(digest) < 0) return "the signed attributes' message digest does not match the module";
            content = SignedAttributes;
        }
        bool valid;
        if (certificate.GetRSAPublicKey() is { } rsa)
            using (rsa) valid = rsa.VerifyData(content, SignatureValue, hash, RSASignaturePadding.Pkcs1);
        else if (certificate.GetECDsaPublicKey() is { } ecdsa)
            using (ecdsa) valid = ecdsa.VerifyData(content, SignatureValue, hash, DSASignatureFormat.Rfc3279DerSequence);
        else
            return $"the certificate's key algorithm ({certificate.PublicKey.Oid.FriendlyName ?? certificate.PublicKey.Oid.Value}) cannot be checked here";
        return valid ? null : "the signature does not match the module's bytes and the certificate's public key";
    }

    private static string Normalize(string hex) => new BigInteger(Convert.FromHexString(hex.Length % 2 == 0 ? hex : "0" + hex), isUnsigned: true, isBigEndian: true).ToString("x");

    /// <summary>Loads a certificate the way sign-file does: PEM or DER.</summary>
    public static X509Certificate2 LoadCertificate(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var text = Encoding.ASCII.GetString(bytes);
        return text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
            ? X509Certificate2.CreateFromPem(text.AsSpan(text.IndexOf("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)))
            : X509CertificateLoader.LoadCertificate(bytes);
    }
}
