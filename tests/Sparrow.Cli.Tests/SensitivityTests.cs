using System.Text.Json;
using Sparrow.Graph.Builders;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;

namespace Sparrow.Cli.Tests;

[Trait(Needs.Category, Needs.Operators)]
public class SensitivityTests
{
    [Fact]
    public void Sensitivity_prints_the_table_draws_a_png_and_writes_an_allocation_recipe_that_prune_accepts()
    {
        using var dir = new TempDirectory();
        var model = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(imageSize: 8), model);
        // The heat map goes to a folder that does not exist yet: like every output, it is made.
        var (png, recipe, json, md) = (Path.Combine(dir.Path, "plots", "heat.png"), dir.File("plan.yaml"), dir.File("s.json"), dir.File("s.md"));
        var r = CliRunner.Run("sensitivity", model, "--sparsities", "0.5,0.9", "--threads", "1", "--allocate", "0.6",
            "--recipe-out", recipe, "--heatmap", png, "--json", json, "--markdown", md);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("output loss", r.Output);
        Assert.Contains("50 %", r.Output);
        Assert.Contains("90 %", r.Output);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(r.Output, @"allocation: overall sparsity 0\.(59|60)\d+ \(target 0\.6, "), r.ToString());
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(r.Output, @"heat map written to "), r.ToString());

        var bytes = File.ReadAllBytes(png);
        Assert.True(bytes.Length > 1000);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var layers = doc.RootElement.GetProperty("layers");
        Assert.True(layers.GetArrayLength() >= 2);
        foreach (var layer in layers.EnumerateArray())
        {
            var losses = layer.GetProperty("losses").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(2, losses.Length);
            Assert.All(losses, l => Assert.InRange(l, -1e-6, 2));
            Assert.Contains(layer.GetProperty("weight").GetString()!, r.Output);
        }
        Assert.Contains("| layer | weight | params | 50 % | 90 % | plan @60 % |", File.ReadAllText(md));

        // The recipe applies: the pruned model's targets together are 60 % zeros.
        var read = PruningRecipe.Load(recipe);
        Assert.Equal(layers.GetArrayLength(), read.LayerSparsity.Count);
        var pruned = dir.File("pruned.onnx");
        var p = CliRunner.Run("prune", model, "--recipe", recipe, "-o", pruned);
        Assert.True(p.ExitCode == 0, p.ToString());
        var graph = OnnxImporter.Load(pruned).Graph;
        var tensors = read.LayerSparsity.Select(kv => graph.Initializers[kv.Key].As<float>().ToArray()).ToArray();
        var zeros = tensors.Sum(t => t.LongCount(v => v == 0));
        var total = tensors.Sum(t => (long)t.Length);
        Assert.True(Math.Abs((double)zeros / total - 0.6) <= 1.0 / total, $"{zeros} of {total}");
    }

    [Theory]
    [InlineData("--sparsities", "0.5,1.2", "--sparsities")]
    [InlineData("--method", "sparsegpt", "--method")]
    [InlineData("--recipe-out", "x.yaml", "--allocate")]
    [InlineData("--allocate", "0.99", "cannot be reached")]
    [InlineData("--heatmap", "x.jpg", ".png or .svg")]
    public void Bad_options_fail_with_one_line(string option, string value, string expected)
    {
        using var dir = new TempDirectory();
        var model = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(imageSize: 8), model);
        var r = CliRunner.Run("sensitivity", model, "--sparsities", "0.5", "--threads", "1", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.ErrorLines);
        Assert.Contains(expected, r.Error);
    }
}
