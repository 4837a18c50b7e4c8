using System.Text.RegularExpressions;
using Klp.Build.Tasks;
using Klp.Build.Tests.Support;

namespace Klp.Build.Tests.Docs;

/// <summary>
/// Every KLPnnnn code the sources emit has its page in docs/diagnostics (the build's help link points there),
/// and every page belongs to a code that is emitted.
/// </summary>
public sealed partial class DiagnosticsDocsTests
{
    private static readonly string[] SourceFolders = ["Klp.Build.Tasks", "Klp.Build.Convert", "Klp.Build.Cli"];
    /// <summary>Shell commands the SDK ships (the apply command) report codes too: "fail KLP6301 ...".</summary>
    private static readonly string ToolsFolder = Path.Combine("Klp.Build.Sdk", "tools");
    private static readonly string[] Sections = ["## What it means", "## Why", "## How to fix", "## Example"];

    private static string DocsDirectory => Path.Combine(RepositoryLayout.Root, "docs", "diagnostics");

    /// <summary>A code as a C# string literal: diagnostics.Error("KLP1010", ...) or const string X = "KLP3020".</summary>
    [GeneratedRegex("\"(KLP[0-9]{4})\"")]
    private static partial Regex CodeLiteral();

    [GeneratedRegex(@"\bfail (KLP[0-9]{4})\b")]
    private static partial Regex ShellCode();

    [GeneratedRegex("^KLP[0-9]{4}$")]
    private static partial Regex CodeName();

    private static SortedSet<string> EmittedCodes()
    {
        var codes = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var folder in SourceFolders)
            foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryLayout.Root, folder), "*.cs", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(RepositoryLayout.Root, file).Replace('\\', '/');
                if (relative.Contains("/obj/") || relative.Contains("/bin/")) continue;
                foreach (Match match in CodeLiteral().Matches(File.ReadAllText(file))) codes.Add(match.Groups[1].Value);
            }
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryLayout.Root, ToolsFolder)))
            foreach (Match match in ShellCode().Matches(File.ReadAllText(file))) codes.Add(match.Groups[1].Value);
        return codes;
    }

    private static SortedSet<string> DocumentedCodes() =>
        new(Directory.EnumerateFiles(DocsDirectory, "KLP*.md").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            .Where(name => CodeName().IsMatch(name)), StringComparer.Ordinal);

    [Fact]
    public void The_scan_finds_the_codes_of_every_layer()
    {
        var codes = EmittedCodes();
        // Literal calls, constants (ConversionCodes, ElfReader/ElfWriter, SymbolMapGenerator), every range.
        codes.ShouldContain("KLP1010");
        codes.ShouldContain("KLP2001");
        codes.ShouldContain("KLP3001");
        codes.ShouldContain("KLP3020");
        codes.ShouldContain("KLP5003");
        codes.ShouldContain("KLP6301"); // tools/klp-apply
    }

    [Fact]
    public void Every_emitted_code_has_a_page()
    {
        var missing = EmittedCodes().Except(DocumentedCodes()).ToList();
        missing.ShouldBeEmpty($"codes emitted without a page in docs/diagnostics: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_page_belongs_to_an_emitted_code()
    {
        var orphans = DocumentedCodes().Except(EmittedCodes()).ToList();
        orphans.ShouldBeEmpty($"pages in docs/diagnostics for codes nothing emits: {string.Join(", ", orphans)}");
    }

    [Fact]
    public void Every_page_has_its_title_and_the_four_sections()
    {
        var problems = new List<string>();
        foreach (var code in DocumentedCodes())
        {
            var lines = File.ReadAllLines(Path.Combine(DocsDirectory, code + ".md"));
            if (lines.Length == 0 || !lines[0].StartsWith($"# {code}: ", StringComparison.Ordinal) || lines[0].Length <= $"# {code}: ".Length)
                problems.Add($"{code}.md: the first line must be '# {code}: <short name>'");
            var headings = lines.Where(l => l.StartsWith("## ", StringComparison.Ordinal)).Select(l => l.TrimEnd()).ToList();
            foreach (var section in Sections)
                if (!headings.Contains(section)) problems.Add($"{code}.md: no '{section}' section");
            var order = Sections.Select(s => headings.IndexOf(s)).Where(i => i >= 0).ToList();
            if (!order.SequenceEqual(order.Order())) problems.Add($"{code}.md: sections out of order");
        }
        problems.ShouldBeEmpty();
    }

    [Fact]
    public void The_index_lists_every_page()
    {
        var index = File.ReadAllText(Path.Combine(DocsDirectory, "README.md"));
        var unlisted = DocumentedCodes().Where(code => !index.Contains($"[{code}]({code}.md)", StringComparison.Ordinal)).ToList();
        unlisted.ShouldBeEmpty($"codes missing from docs/diagnostics/README.md: {string.Join(", ", unlisted)}");
    }

    [Fact]
    public void The_help_link_points_at_the_docs_folder_two_levels_above_the_task_assembly()
    {
        // In the package the assembly is tasks/net10.0/Klp.Build.Tasks.dll and the pages are docs/diagnostics/.
        var assemblyDirectory = Path.GetDirectoryName(typeof(DiagnosticLogging).Assembly.Location)!;
        var packageRoot = Path.GetFullPath(Path.Combine(assemblyDirectory, "..", ".."));
        var link = new Uri(DiagnosticLogging.HelpLink("KLP1010"));
        link.IsFile.ShouldBeTrue();
        link.LocalPath.ShouldBe(Path.Combine(packageRoot, "docs", "diagnostics", "KLP1010.md"));

        var package = File.ReadAllText(Path.Combine(RepositoryLayout.Root, "Klp.Build.Sdk", "Klp.Build.Sdk.csproj"));
        package.ShouldContain("Include=\"../docs/diagnostics/**\" Pack=\"true\" PackagePath=\"docs/diagnostics/\"");
        package.ShouldContain("PackagePath=\"tasks/$(TargetFramework)/\"");
        File.ReadAllText(Path.Combine(RepositoryLayout.Root, "Klp.Build.Sdk", "Sdk", "Sdk.props"))
            .ShouldContain("tasks/net10.0/Klp.Build.Tasks.dll");
    }
}
