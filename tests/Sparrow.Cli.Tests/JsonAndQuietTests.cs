using System.Text.Json;
using Sparrow.Graph.Builders;
using Sparrow.Graph.Onnx;

namespace Sparrow.Cli.Tests;

/// <summary>
/// Each command that prints results, run as a script would: <c>--json</c> alone puts the JSON, and nothing else, on
/// standard output (remarks go to standard error); <c>--quiet</c> prints the results and no remarks.
/// </summary>
[Trait(Needs.Category, Needs.Operators)]
public class JsonAndQuietTests
{
    /// <summary>Standard output is one JSON document and nothing else; returns its root.</summary>
    private static JsonElement JsonOnly(CliRunner.Result r, int exitCode = ExitCodes.Success)
    {
        Assert.True(r.ExitCode == exitCode, r.ToString());
        try
        {
            using var document = JsonDocument.Parse(r.Output);
            var root = document.RootElement.Clone();
            Assert.Equal(JsonValueKind.Object, root.ValueKind);
            Assert.StartsWith("sparrow ", root.GetProperty("command").GetString());
            return root;
        }
        catch (JsonException e)
        {
            throw new Xunit.Sdk.XunitException($"standard output is not JSON alone ({e.Message}):\n{r}");
        }
    }

    private static void Quiet(CliRunner.Result r, string result, params string[] remarks)
    {
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains(result, r.Output);
        Assert.Empty(r.Error);
        Assert.DoesNotContain("done in", r.Output);
        foreach (var remark in remarks) Assert.DoesNotContain(remark, r.Output);
    }

    private static string SmallCnnFile(TempDirectory dir)
    {
        var path = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(imageSize: 8), path);
        return path;
    }

    [Fact]
    public void Inspect()
    {
        using var dir = new TempDirectory();
        var model = SmallCnnFile(dir);
        var root = JsonOnly(CliRunner.Run("inspect", model, "--batch", "2", "--json"));
        Assert.Equal(model, root.GetProperty("model").GetString());
        var total = SmallCnn.Build(imageSize: 8).Graph.Initializers.Values.Sum(t => (long)t.Length);
        Assert.Equal(total, root.GetProperty("parameters").GetInt64());
        Assert.Equal(total, root.GetProperty("layers").EnumerateArray().Sum(l => l.GetProperty("parameters").GetInt64()));
        Assert.Equal("image", root.GetProperty("inputs")[0].GetProperty("name").GetString());
        Assert.True(root.GetProperty("flops").GetProperty("total").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("pruning").ValueKind);
        Assert.True(root.GetProperty("kernels").GetProperty("weights").GetArrayLength() >= 1);

        Quiet(CliRunner.Run("inspect", model, "--quiet"), "Total parameters");
    }

    [Fact]
    public void Verify()
    {
        using var dir = new TempDirectory();
        var model = SmallCnnFile(dir);
        var r = CliRunner.Run("verify", model, "--threads", "1", "--json");
        var root = JsonOnly(r);
        Assert.True(root.GetProperty("passed").GetBoolean());
        var output = Assert.Single(root.GetProperty("outputs").EnumerateArray());
        Assert.Equal(SmallCnn.OutputName, output.GetProperty("name").GetString());
        Assert.True(output.GetProperty("maxAbsoluteDifference").GetDouble() <= 1e-4);
        // The remarks went to standard error.
        Assert.Contains("input image", r.Error);

        Quiet(CliRunner.Run("verify", model, "--threads", "1", "--quiet"), "PASS", "input image", "ONNX Runtime " + Execution.OrtModelRunner.Version);
    }

    [Fact]
    public void Verify_that_fails_exits_1_with_passed_false()
    {
        var root = JsonOnly(CliRunner.Run("verify", "--batch", "2", "--seq", "16", "--atol", "0", "--rtol", "0", "--json"), ExitCodes.Failure);
        Assert.False(root.GetProperty("passed").GetBoolean());
        Assert.Contains(root.GetProperty("outputs").EnumerateArray(), o => !o.GetProperty("passed").GetBoolean() && o.GetProperty("mismatches").GetInt64() > 0);
    }

    [Fact]
    public void Embed()
    {
        var root = JsonOnly(CliRunner.Run("embed", "A man is playing a guitar.", "Someone is strumming a guitar.", "Interest rates rose.", "--json"));
        Assert.Equal(3, root.GetProperty("texts").GetArrayLength());
        Assert.Equal(384, root.GetProperty("dimensions").GetInt32());
        Assert.Equal(384, root.GetProperty("embeddings")[0].GetArrayLength());
        var similarity = root.GetProperty("similarity");
        Assert.Equal(1.0, similarity[0][0].GetDouble(), 4);
        Assert.Equal(similarity[0][1].GetDouble(), similarity[1][0].GetDouble(), 6);
        Assert.Equal(1, root.GetProperty("mostSimilar").GetProperty("first").GetInt32());
        Assert.Equal(2, root.GetProperty("mostSimilar").GetProperty("second").GetInt32());

        Quiet(CliRunner.Run("embed", "one text", "another text", "-q"), "Most similar");
    }

    [Fact]
    public void Prune_then_compact_then_eval()
    {
        using var dir = new TempDirectory();
        var pruned = dir.File("pruned.onnx");
        var root = JsonOnly(CliRunner.Run("prune", "--sparsity", "0.5", "--include", "^(927|939)$", "-o", pruned, "--json"));
        Assert.Equal(pruned, root.GetProperty("output").GetString());
        Assert.Equal("magnitude", root.GetProperty("method").GetString());
        Assert.Equal("unstructured", root.GetProperty("pattern").GetString());
        var layers = root.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(["927", "939"], layers.Select(l => l.GetProperty("weight").GetString()));
        Assert.All(layers, l => Assert.Equal(0.5, l.GetProperty("targetSparsity").GetDouble()));
        Assert.All(layers, l => Assert.Equal(0.5, l.GetProperty("achievedSparsity").GetDouble(), 3));
        var totals = root.GetProperty("totals");
        Assert.Equal(2, totals.GetProperty("weights").GetInt32());
        Assert.Equal(totals.GetProperty("parameters").GetInt64() / 2, totals.GetProperty("zeros").GetInt64());
        Assert.Equal(new FileInfo(pruned).Length, root.GetProperty("outputBytes").GetInt64());

        // --json FILE: the tables as usual, the JSON in the file.
        var json = dir.File("prune.json");
        var withFile = CliRunner.Run("prune", "--sparsity", "0.5", "--include", "^927$", "-o", dir.File("p2.onnx"), "--json", json);
        Assert.True(withFile.ExitCode == 0, withFile.ToString());
        Assert.Contains("Pruned 1 weights", withFile.Output);
        Assert.Contains("Wrote the JSON to", withFile.Output);
        using (var file = JsonDocument.Parse(File.ReadAllText(json))) Assert.Equal(1, file.RootElement.GetProperty("totals").GetProperty("weights").GetInt32());

        Quiet(CliRunner.Run("prune", "--sparsity", "0.5", "--include", "^927$", "-o", dir.File("p3.onnx"), "--quiet"), "Pruned 1 weights");
        var verbose = CliRunner.Run("prune", "--sparsity", "0.5", "--include", "^927$", "-o", dir.File("p4.onnx"), "--verbose");
        Assert.Contains("Pruning: 1/1", verbose.Output);

        var compact = JsonOnly(CliRunner.Run("compact", pruned, "-o", dir.File("compact.onnx"), "--json"));
        Assert.Equal("compact", compact.GetProperty("form").GetString());
        Assert.InRange(compact.GetProperty("sparseWeights").GetInt32(), 1, 2);
        Assert.True(compact.GetProperty("outputBytes").GetInt64() < compact.GetProperty("inputBytes").GetInt64());
        Quiet(CliRunner.Run("compact", pruned, "-o", dir.File("compact2.onnx"), "-q"), "compact form");

        var eval = JsonOnly(CliRunner.Run("eval", pruned, "--json"));
        var result = Assert.Single(eval.GetProperty("results").EnumerateArray());
        Assert.InRange(result.GetProperty("meanCosine").GetDouble(), 0.5, 0.99999);
        Assert.Equal(64, result.GetProperty("sentences").GetInt32());
        Quiet(CliRunner.Run("eval", pruned, "--quiet"), "mean cosine");
    }

    [Fact]
    public void Structured_prune()
    {
        using var dir = new TempDirectory();
        var output = dir.File("structured.onnx");
        var root = JsonOnly(CliRunner.Run("prune", "--remove-layers", "1", "-o", output, "--json"));
        Assert.Equal("structured", root.GetProperty("method").GetString());
        Assert.Equal(6, root.GetProperty("layers").GetArrayLength());
        Assert.Single(root.GetProperty("layers").EnumerateArray(), l => l.GetProperty("removed").GetBoolean());
        var totals = root.GetProperty("totals");
        Assert.Equal(1, totals.GetProperty("layersRemoved").GetInt32());
        Assert.True(totals.GetProperty("parametersAfter").GetInt64() < totals.GetProperty("parametersBefore").GetInt64());
        Assert.True(totals.GetProperty("flopsAfter").GetInt64() < totals.GetProperty("flopsBefore").GetInt64());
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void Sensitivity()
    {
        using var dir = new TempDirectory();
        var model = SmallCnnFile(dir);
        var root = JsonOnly(CliRunner.Run("sensitivity", model, "--sparsities", "0.5,0.9", "--threads", "1", "--allocate", "0.6", "--json"));
        Assert.Equal([0.5, 0.9], root.GetProperty("sparsities").EnumerateArray().Select(e => e.GetDouble()));
        var layers = root.GetProperty("layers").EnumerateArray().ToArray();
        Assert.True(layers.Length >= 2);
        Assert.All(layers, l => Assert.Equal(2, l.GetProperty("losses").GetArrayLength()));
        Assert.Equal(0.6, root.GetProperty("allocation").GetProperty("target").GetDouble());

        Quiet(CliRunner.Run("sensitivity", model, "--sparsities", "0.5", "--threads", "1", "--quiet"), "50 %");
    }

    [Fact]
    public void Bench_kernels()
    {
        string[] tiny = ["bench", "kernels", "--shapes", "16x32", "--rows", "1", "--sparsity", "90", "--kernels", "CSR", "--runs", "1", "--time", "0",
            "--warmup", "0", "--threads", "1", "--bandwidth-mb", "4", "--no-ort"];
        var r = CliRunner.Run([.. tiny, "--json"]);
        var root = JsonOnly(r);
        var kernel = Assert.Single(root.GetProperty("kernels").EnumerateArray());
        Assert.Equal("CSR", kernel.GetProperty("kernel").GetString());
        Assert.True(root.GetProperty("memoryBandwidthBytesPerSecond").GetDouble() > 0);
        Assert.Contains("memory read bandwidth", r.Error);

        Quiet(CliRunner.Run([.. tiny, "--quiet"]), "break-even", "against dense GEMM");
    }
}
