using Sparrow.Graph.Onnx;
using Sparrow.Pruning.Structured;

namespace Sparrow.Cli.Tests;

public sealed class StructuredPruneTests
{
    private static string Calibration(TempDirectory folder)
    {
        var path = Path.Combine(folder.Path, "calibration.txt");
        File.WriteAllLines(path, ["The train was late again.", "Cats sleep most of the day."]);
        return path;
    }

    [Fact]
    public void Removing_heads_and_neurons_shrinks_the_model_and_onnx_runtime_agrees()
    {
        using var folder = new TempDirectory();
        var output = Path.Combine(folder.Path, "minilm-structured.onnx");
        var result = CliRunner.Run("prune", "--remove-heads", "0.25", "--remove-neurons", "0.25", "--calibration", Calibration(folder), "-o", output);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Removed 0 layer(s), and from the other layers 18 heads and 2,304 FFN neurons", result.Output);
        // Per layer: 3 of 12 heads (96 of 384 columns of Q, K, V and their biases, 96 rows of the output
        // projection) and 384 of 1536 FFN neurons (columns and bias of the up matrix, rows of the down matrix).
        const long dense = 22_713_772, removedPerLayer = 3 * (384 * 96 + 96) + 96 * 384 + (384 * 384 + 384) + 384 * 384;
        Assert.Contains($"Parameters: {dense:N0} -> {dense - 6 * removedPerLayer:N0}", result.Output);
        Assert.Matches(@"FLOPs at batch 1, sequence 128: [\d.]+ GFLOPs -> [\d.]+ GFLOPs", result.Output);

        var pruned = OnnxImporter.Load(output);
        Assert.All(EncoderStructure.Find(pruned.Graph).Layers, l => Assert.Equal(9, l.Attention.Heads));
        Assert.NotNull(StructuredPruningRecord.ReadFrom(pruned));
        var verify = CliRunner.Run("verify", output, "--batch", "2", "--seq", "8");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    [Fact]
    public void Removing_layers_runs_in_onnx_runtime()
    {
        using var folder = new TempDirectory();
        var output = Path.Combine(folder.Path, "minilm-4-layers.onnx");
        var result = CliRunner.Run("prune", "--remove-layers", "2", "--calibration", Calibration(folder), "-o", output);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("layer removed", result.Output);
        Assert.Contains("Removed 2 layer(s), and from the other layers 0 heads and 0 FFN neurons", result.Output);
        Assert.Equal(4, EncoderStructure.Find(OnnxImporter.Load(output).Graph).Layers.Count);
        var verify = CliRunner.Run("verify", output, "--batch", "1", "--seq", "8");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    [Fact]
    public void Removing_the_last_layer_keeps_the_output_names_for_onnx_runtime()
    {
        using var folder = new TempDirectory();
        var output = Path.Combine(folder.Path, "no-last-layer.onnx");
        var model = OnnxImporter.Load(CliRunner.MiniLmPath);
        var pruned = StructuredRemoval.Apply(model, new StructuredPlan
        {
            Layers = [5],
            Heads = new Dictionary<int, IReadOnlyList<int>> { [0] = [0, 11], [4] = [3] },
            Neurons = new Dictionary<int, IReadOnlyList<int>> { [2] = Enumerable.Range(0, 1000).ToArray() },
        });
        OnnxExporter.Save(pruned, output);
        Assert.Equal(model.Graph.Outputs.Select(o => o.Name), OnnxImporter.Load(output).Graph.Outputs.Select(o => o.Name));
        var verify = CliRunner.Run("verify", output, "--batch", "2", "--seq", "8");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    [Theory]
    [InlineData("--remove-heads", "1")]
    [InlineData("--remove-neurons", "-0.5")]
    [InlineData("--remove-layers", "-1")]
    [InlineData("--remove-layers", "6")]
    public void Impossible_amounts_are_refused(string option, string value)
    {
        using var folder = new TempDirectory();
        var r = CliRunner.Run("prune", option, value, "-o", Path.Combine(folder.Path, "out.onnx"));
        Assert.True(r.ExitCode == ExitCodes.BadInput, r.ToString());
        Assert.Contains(option == "--remove-layers" && value == "6" ? "at least one must stay" : option, r.Error);
        Assert.DoesNotContain("   at ", r.Error + r.Output);
    }

    [Fact]
    public void Structured_and_unstructured_flags_cannot_be_mixed()
    {
        using var folder = new TempDirectory();
        var r = CliRunner.Run("prune", "--remove-heads", "0.25", "--sparsity", "0.5", "-o", Path.Combine(folder.Path, "out.onnx"));
        Assert.True(r.ExitCode == ExitCodes.BadInput, r.ToString());
        Assert.Contains("--sparsity cannot be combined with --remove-heads", r.Error);
    }
}

public sealed class StructuredRecipeCliTests
{
    [Fact]
    public void A_recipe_value_error_names_its_line()
    {
        using var folder = new TempDirectory();
        var recipe = Path.Combine(folder.Path, "plan.json");
        File.WriteAllText(recipe, "{\n  \"structured\": {\n    \"heads\": 1.5\n  }\n}\n");
        var r = CliRunner.Run("prune", "--recipe", recipe, "-o", Path.Combine(folder.Path, "out.onnx"));
        Assert.True(r.ExitCode == ExitCodes.BadInput, r.ToString());
        Assert.Contains("line 3, field 'structured.heads'", r.Error);
    }

    [Fact]
    public void A_recipe_cannot_mix_structured_and_sparsity()
    {
        using var folder = new TempDirectory();
        var recipe = Path.Combine(folder.Path, "plan.yaml");
        File.WriteAllText(recipe, "sparsity: 0.5\nstructured:\n  heads: 0.25\n");
        var r = CliRunner.Run("prune", "--recipe", recipe, "-o", Path.Combine(folder.Path, "out.onnx"));
        Assert.True(r.ExitCode == ExitCodes.BadInput, r.ToString());
        Assert.Contains("line 1, field 'sparsity': cannot be combined with 'structured'", r.Error);
    }

    [Fact]
    public void Compact_is_refused_for_a_structured_recipe()
    {
        using var folder = new TempDirectory();
        var recipe = Path.Combine(folder.Path, "plan.yaml");
        File.WriteAllText(recipe, "structured:\n  heads: 0.25\n");
        var output = Path.Combine(folder.Path, "out.onnx");
        var r = CliRunner.Run("prune", "--recipe", recipe, "--compact", "-o", output);
        Assert.True(r.ExitCode == ExitCodes.BadInput, r.ToString());
        Assert.Contains("--compact does not apply to the structured plan", r.Error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void A_structured_recipe_removes_what_it_says()
    {
        using var folder = new TempDirectory();
        var sentences = Path.Combine(folder.Path, "calibration.txt");
        File.WriteAllLines(sentences, ["The train was late again."]);
        var recipe = Path.Combine(folder.Path, "plan.json");
        File.WriteAllText(recipe, "{ \"calibration\": \"calibration.txt\", \"structured\": { \"neurons\": 0.5 } }");
        var output = Path.Combine(folder.Path, "out.onnx");
        var r = CliRunner.Run("prune", "--recipe", recipe, "-o", output);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Removed 0 layer(s), and from the other layers 0 heads and 4,608 FFN neurons", r.Output);
    }
}
