using Sparrow.Graph.Onnx;

namespace Sparrow.Cli.Tests;

public sealed class PruneTests
{
    [Fact]
    public void Prune_writes_a_sparse_model_that_verify_passes()
    {
        using var folder = new TempDirectory();
        var output = Path.Combine(folder.Path, "minilm-50.onnx");
        var result = CliRunner.Run("prune", "--method", "magnitude", "--sparsity", "0.5", "-o", output);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Pruned 36 weights", result.Output);
        Assert.Equal(new[] { "minilm-50.onnx" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));

        var pruned = OnnxImporter.Load(output);
        var weight = pruned.Graph.Nodes.First(n => n.OpType == "MatMul" && pruned.Graph.Initializers.ContainsKey(n.Inputs[1])).Inputs[1];
        var values = pruned.Graph.Initializers[weight].As<float>().ToArray();
        Assert.InRange(values.Count(v => v == 0) / (double)values.Length, 0.499, 0.501);

        var verify = CliRunner.Run("verify", output, "--batch", "1", "--seq", "8");
        Assert.True(verify.ExitCode == 0, verify.ToString());
    }

    [Fact]
    public void Prune_never_overwrites_its_input()
    {
        using var folder = new TempDirectory();
        var input = Path.Combine(folder.Path, "model.onnx");
        File.Copy(CliRunner.MiniLmPath, input);
        var before = File.GetLastWriteTimeUtc(input);
        var result = CliRunner.Run("prune", input, "-o", input);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("never overwrites its input", result.Error);
        Assert.Equal(before, File.GetLastWriteTimeUtc(input));
    }

    [Theory]
    [InlineData("--sparsity", "1.5", "--sparsity must be between 0 and 1")]
    [InlineData("--method", "wanda", "--method 'wanda' is not available")]
    public void Bad_options_are_named(string option, string value, string message)
    {
        using var folder = new TempDirectory();
        var result = CliRunner.Run("prune", option, value, "-o", Path.Combine(folder.Path, "out.onnx"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void Output_is_required()
    {
        var result = CliRunner.Run("prune", "--sparsity", "0.5");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--output", result.Error);
    }
}
