using Sparrow.Cli.Execution;
using Sparrow.Data.Text;
using Sparrow.Graph.Builders;
using Sparrow.Graph.Onnx;
using Sparrow.Tensors;

namespace Sparrow.Cli.Tests;

/// <summary><c>sparrow verify</c> end to end: Sparrow against ONNX Runtime on MiniLM and on a small CNN.</summary>
[Trait(Needs.Category, Needs.Operators)]
public class VerifyTests
{
    private static void AssertPass(CliRunner.Result r, params string[] outputs)
    {
        Assert.True(r.ExitCode == ExitCodes.Success, r.ToString());
        Assert.Contains("PASS: all", r.Output);
        foreach (var o in outputs) Assert.Matches($@"{o}\s+\[[^\]]*\]\s+\S+\s+\S+\s+PASS", r.Output);
        Assert.DoesNotContain("FAIL", r.Output);
    }

    [Theory]
    [InlineData(1, 8)]
    [InlineData(4, 32)]
    public void Minilm_matches_onnx_runtime(int batch, int seq)
    {
        var r = CliRunner.Run("verify", "--batch", batch.ToString(), "--seq", seq.ToString(), "--seed", "3");
        AssertPass(r, "last_hidden_state", "924");
        Assert.Contains($"int64[{batch},{seq}] uniform in [0, 30522)", r.Output);
        Assert.Contains($"int64[{batch},{seq}] uniform in [0, 2)", r.Output);
    }

    [Fact]
    public void Minilm_from_a_file_with_inputs_from_npy_matches()
    {
        using var dir = new TempDirectory();
        using var tokens = SentenceTokenizer.Default.EncodeBatch(new[] { "The quick brown fox jumps over the lazy dog.", "Hello!" });
        Npy.Write(dir.File("ids.npy"), tokens.InputIds);
        Npy.Write(dir.File("mask.npy"), tokens.AttentionMask);
        var r = CliRunner.Run("verify", CliRunner.MiniLmPath,
            "--input", $"input_ids={dir.File("ids.npy")}", "--input", $"attention_mask={dir.File("mask.npy")}");
        AssertPass(r, "last_hidden_state");
        Assert.Contains("from file", r.Output);
        // token_type_ids was generated at the files' size.
        Assert.Contains($"int64[2,{tokens.SequenceLength}] uniform in [0, 2)", r.Output);
    }

    [Fact]
    public void Zero_tolerance_finds_rounding_differences_and_exits_1()
    {
        // Two different runtimes summing 384-long dot products in different orders do not agree to the last bit.
        var r = CliRunner.Run("verify", "--batch", "2", "--seq", "16", "--atol", "0", "--rtol", "0");
        Assert.True(r.ExitCode == ExitCodes.Failure, r.ToString());
        Assert.Contains("FAIL", r.Output);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Small_cnn_built_in_code_matches_onnx_runtime(int batch)
    {
        using var dir = new TempDirectory();
        var path = dir.File("small-cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(seed: 11), path);
        var r = CliRunner.Run("verify", path, "--batch", batch.ToString(), "--threads", "1");
        AssertPass(r, SmallCnn.OutputName);
        Assert.Contains($"float32[{batch},3,32,32] normal(0, 1)", r.Output);
    }

    [Fact]
    public void Small_cnn_with_a_float64_npy_input_is_converted_and_matches()
    {
        using var dir = new TempDirectory();
        var path = dir.File("small-cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(seed: 5, imageSize: 16), path);
        var random = new Random(9);
        var pixels = Tensor<double>.FromArray(Enumerable.Range(0, 2 * 3 * 16 * 16).Select(_ => random.NextDouble()).ToArray(), 2, 3, 16, 16);
        Npy.Write(dir.File("x.npy"), pixels);
        var r = CliRunner.Run("verify", path, "--input", $"image={dir.File("x.npy")}");
        AssertPass(r, SmallCnn.OutputName);
    }
}
