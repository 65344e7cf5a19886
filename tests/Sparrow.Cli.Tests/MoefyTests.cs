using System.Text.Json;
using Sparrow.Graph.Onnx;

namespace Sparrow.Cli.Tests;

/// <summary><c>sparrow moefy</c>: MiniLM's feed-forward blocks as MoE nodes, the per-layer JSON, and its usage errors.</summary>
public sealed class MoefyTests
{
    [Fact]
    public void Writes_a_model_with_one_MoE_node_per_layer_and_the_choices_as_JSON()
    {
        using var folder = new TempDirectory();
        var output = folder.File("moe.onnx");
        var json = folder.File("moe.json");
        var r = CliRunner.Run("moefy", "--experts", "16", "--k", "2", "--max-tokens", "128", "--threads", "1", "-o", output, "--json", json);
        Assert.True(r.ExitCode == 0, r.ToString());
        var model = OnnxImporter.Load(output);
        var moes = model.Graph.Nodes.Where(n => n.OpType == "MoE" && n.Domain == "ai.sparrow").ToList();
        Assert.Equal(6, moes.Count);
        Assert.All(moes, n => Assert.Equal(2, n.GetInt("k", 0)));
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var layers = document.RootElement.GetProperty("layers");
        Assert.Equal(6, layers.GetArrayLength());
        foreach (var layer in layers.EnumerateArray())
        {
            Assert.Equal(2, layer.GetProperty("k").GetInt32());
            Assert.Equal(16, layer.GetProperty("relativeErrorByK").GetArrayLength());
            Assert.InRange(layer.GetProperty("relativeError").GetDouble(), 0, 1.5);
        }
    }

    [Theory]
    [InlineData("--k", "17")]
    [InlineData("--experts", "1")]
    [InlineData("--max-tokens", "0")]
    [InlineData("--experts", "7")] // 1536 neurons do not split into 7
    public void Refuses_bad_settings_with_a_usage_error(string option, string value)
    {
        using var folder = new TempDirectory();
        string[] tokens = option == "--max-tokens" ? [] : ["--max-tokens", "16"];
        var r = CliRunner.Run(["moefy", option, value, .. tokens, "-o", folder.File("x.onnx")]);
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.False(File.Exists(folder.File("x.onnx")));
    }
}
