using System.Text.Json;

namespace Sparrow.Cli.Tests;

public sealed class EvalTests
{
    [Fact]
    public void Eval_scores_the_reference_itself_one_and_a_pruned_copy_below()
    {
        using var folder = new TempDirectory();
        var pruned = Path.Combine(folder.Path, "pruned.onnx");
        var prune = CliRunner.Run("prune", "--method", "magnitude", "--sparsity", "0.9", "-o", pruned);
        Assert.True(prune.ExitCode == 0, prune.ToString());
        var json = Path.Combine(folder.Path, "eval.json");
        var markdown = Path.Combine(folder.Path, "eval.md");
        var result = CliRunner.Run("eval", CliRunner.MiniLmPath, pruned, "--json", json, "--markdown", markdown);
        Assert.True(result.ExitCode == 0, result.ToString());
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var results = document.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(2, results.Length);
        Assert.Equal(1.0, results[0].GetProperty("meanCosine").GetDouble(), 5);
        Assert.Equal(64, results[0].GetProperty("sentences").GetInt32());
        var prunedCosine = results[1].GetProperty("meanCosine").GetDouble();
        Assert.InRange(prunedCosine, 0.0, 0.99);
        Assert.True(results[1].GetProperty("minCosine").GetDouble() <= prunedCosine);
        Assert.Contains("pruned.onnx | ", File.ReadAllText(markdown));
    }

    [Fact]
    public void Eval_names_what_is_wrong()
    {
        using var folder = new TempDirectory();
        var missing = CliRunner.Run("eval", CliRunner.MiniLmPath, "--sentences", Path.Combine(folder.Path, "none.txt"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("no such file", missing.Error);
        var empty = Path.Combine(folder.Path, "empty.txt");
        File.WriteAllText(empty, "# only a comment\n\n");
        var noSentences = CliRunner.Run("eval", CliRunner.MiniLmPath, "--sentences", empty);
        Assert.Equal(2, noSentences.ExitCode);
        Assert.Contains("holds no sentences", noSentences.Error);
    }
}
