using Sparrow.Cli.Execution;
using Sparrow.Data.Models;
using Sparrow.Graph.Builders;
using Sparrow.Graph.Onnx;
using Sparrow.Tensors;

namespace Sparrow.Cli.Tests;

public class InspectTests
{
    /// <summary>all-MiniLM-L6-v2's parameter count, counted here from the model's own float initializers.</summary>
    private static long MiniLmParameters() =>
        OnnxImporter.Load(DefaultModel.OnnxBytes).Graph.Initializers.Values
            .Where(t => t.ElementType == DataType.Float32)
            .Sum(t => (long)t.Length);

    [Fact]
    public void Describes_the_embedded_model()
    {
        var r = CliRunner.Run("inspect", "--batch", "1", "--seq", "8");
        Assert.True(r.ExitCode == 0, r.ToString());
        var expected = MiniLmParameters();
        Assert.Equal(22_713_216, expected);
        Assert.Contains("Total parameters: 22,713,216 (22.7M)", r.Output);
        Assert.Contains("opset ai.onnx 13", r.Output);
        Assert.Contains("650 nodes", r.Output);
        foreach (var name in new[] { "input_ids", "attention_mask", "token_type_ids", "last_hidden_state" }) Assert.Contains(name, r.Output);
        Assert.Matches(@"MatMul\s+48", r.Output);
        Assert.Matches(@"Erf\s+6", r.Output);
        // The embeddings hold half the weights; each of the six layers 1.77M.
        Assert.Matches(@"embeddings\.word_embeddings\s+1\s+11,720,448", r.Output);
        for (var layer = 0; layer < 6; layer++) Assert.Matches($@"encoder\.layer\.{layer}\s+16\s+1,774,464", r.Output);
        Assert.DoesNotContain("(unnamed)", r.Output);
    }

    [Fact]
    public void Inspects_a_model_file_given_by_path()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cnn.onnx");
        var model = SmallCnn.Build();
        OnnxExporter.Save(model, path);
        var r = CliRunner.Run("inspect", path, "--batch", "2");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(path, r.Output);
        var total = model.Graph.Initializers.Values.Sum(t => (long)t.Length);
        Assert.Contains($"Total parameters: {total:N0}", r.Output);
        Assert.Matches(@"conv1\s+2\s+224", r.Output);
        Assert.Matches(@"conv1\.bn\s+4\s+32", r.Output);
        Assert.Matches(@"fc\s+2\s+170", r.Output);
    }

    /// <summary>A model whose inputs Sparrow cannot make up (int8) is still described; only its FLOPs are left out, with why.</summary>
    [Fact]
    public void Inspects_a_model_whose_inputs_cannot_be_generated()
    {
        var path = Path.Combine(Sparrow.TestSupport.SharedFolder.NodeTests ?? throw new InvalidOperationException(Sparrow.TestSupport.SharedFolder.NodeTestsMissingReason),
            "test_add_int8", "model.onnx");
        var r = CliRunner.Run("inspect", path);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("FLOPs not counted", r.Output);
        Assert.Contains("int8", r.Output);
        Assert.DoesNotContain("--input", r.Output + r.Error);
    }

    /// <summary>By hand: per layer Q, K, V, output (4 × 384×384), the feed-forward pair (2 × 384×1536), and attention's two batched products.</summary>
    private static long MiniLmFlops(long batch, long seq)
    {
        long tokens = batch * seq;
        var projections = 4 * 2 * tokens * 384 * 384;
        var feedForward = 2 * 2 * tokens * 384 * 1536;
        var attention = 2 * (2 * batch * 12 * seq * seq * 32);
        var pooler = 2 * batch * 384 * 384;
        return 6 * (projections + feedForward + attention) + pooler;
    }

    [Theory]
    [Trait(Needs.Category, Needs.Operators)]
    [InlineData(1, 8)]
    [InlineData(2, 32)]
    public void Counts_minilm_flops_for_a_batch_and_sequence(int batch, int seq)
    {
        var r = CliRunner.Run("inspect", "--batch", batch.ToString(), "--seq", seq.ToString());
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains($"Total: {MiniLmFlops(batch, seq):N0} FLOPs", r.Output);
    }

    [Fact]
    [Trait(Needs.Category, Needs.Operators)]
    public void Counts_small_cnn_flops()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(), path);
        var r = CliRunner.Run("inspect", path, "--batch", "2");
        Assert.True(r.ExitCode == 0, r.ToString());
        long conv1 = 2L * 2 * 8 * 32 * 32 * (3 * 9);
        long conv2 = 2L * 2 * 16 * 16 * 16 * (8 * 9);
        long fc = 2L * 2 * 10 * 16;
        Assert.Contains($"Total: {conv1 + conv2 + fc:N0} FLOPs", r.Output);
    }
}
