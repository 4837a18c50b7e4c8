namespace Klp.Build.Tests.Support;

public static class RepositoryLayout
{
    public static string Root { get; } = FindRoot();

    public static string Samples => Path.Combine(Root, "samples");
    public static string Feed => Path.Combine(Root, "artifacts", "feed");

    public static string SdkVersion { get; } =
        System.Text.RegularExpressions.Regex.Match(File.ReadAllText(Path.Combine(Root, "global.json")),
            "\"Klp.Build.Sdk\"\\s*:\\s*\"([^\"]+)\"").Groups[1].Value;

    private static string FindRoot()
    {
        var directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Klp.Build.slnx")))
            directory = Path.GetDirectoryName(directory);
        return directory ?? throw new InvalidOperationException("tests run outside the repository");
    }
}
