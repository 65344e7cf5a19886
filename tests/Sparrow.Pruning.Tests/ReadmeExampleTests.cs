using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Sparrow.Graph.Onnx;
using Xunit.Abstractions;

namespace Sparrow.Pruning.Tests;

/// <summary>The example changes the current folder and the console, so it runs alone, after the parallel tests.</summary>
[CollectionDefinition(nameof(ReadmeExampleCollection), DisableParallelization = true)]
public class ReadmeExampleCollection;

[Collection(nameof(ReadmeExampleCollection))]
public class ReadmeExampleTests(ITestOutputHelper output)
{
    private static string ThisFolder([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    /// <summary>The code block README.md must contain: the example's usings, a blank line, its body unindented.</summary>
    internal static string ExpectedCodeBlock()
    {
        var lines = File.ReadAllLines(Path.Combine(ThisFolder(), "ReadmeExample.cs"));
        var usings = Between(lines, "// README example: usings");
        var body = Between(lines, "// README example: body");
        var indent = body.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        var unindented = body.Select(l => l.Trim().Length == 0 ? "" : l[indent..]);
        return "```csharp\n" + string.Join('\n', usings) + "\n\n" + string.Join('\n', unindented) + "\n```\n";
    }

    private static List<string> Between(string[] lines, string startMarker)
    {
        var start = Array.FindIndex(lines, l => l.Trim() == startMarker);
        Assert.True(start >= 0, $"ReadmeExample.cs lacks the marker '{startMarker}'.");
        var end = Array.FindIndex(lines, start + 1, l => l.Trim() == "// README example: end");
        Assert.True(end > start, $"ReadmeExample.cs lacks '// README example: end' after '{startMarker}'.");
        return lines[(start + 1)..end].ToList();
    }

    [Fact]
    public void Readme_ShowsExactlyTheTestedExample()
    {
        var readme = File.ReadAllText(Path.Combine(ThisFolder(), "..", "..", "README.md")).Replace("\r\n", "\n");
        var expected = ExpectedCodeBlock();
        Assert.True(readme.Contains(expected, StringComparison.Ordinal),
            "README.md's C# example differs from tests/Sparrow.Pruning.Tests/ReadmeExample.cs. Copy the lines between " +
            "the markers into README.md (usings, a blank line, the body unindented):\n" + expected);
    }

    [Fact]
    public void ReadmeExample_PrunesSavesRunsAndPrintsTheSpeedUp()
    {
        var folder = Directory.CreateTempSubdirectory("sparrow-readme-example-");
        var previousFolder = Environment.CurrentDirectory;
        var previousOut = Console.Out;
        var printed = new StringWriter();
        try
        {
            Environment.CurrentDirectory = folder.FullName;
            Console.SetOut(printed);
            ReadmeExample.Run();
        }
        finally
        {
            Console.SetOut(previousOut);
            Environment.CurrentDirectory = previousFolder;
        }
        try
        {
            output.WriteLine(printed.ToString());
            Assert.Matches(new Regex(@"^dense \d+\.\d ms, pruned \d+\.\d ms: \d+\.\d\dx as fast$"), printed.ToString().Trim());
            // The saved model is the pruned one: half of each pruned weight is zero.
            var saved = OnnxImporter.Load(Path.Combine(folder.FullName, "minilm-wanda50.onnx"));
            var targets = Pruner.SelectTargets(saved.Graph, new PruneSettings { Sparsity = 0.5 });
            Assert.NotEmpty(targets);
            foreach (var target in targets)
            {
                var weight = saved.Graph.Initializers[target.WeightName].As<float>().Span;
                Assert.Equal(weight.Length / 2, weight.Count(0f));
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
