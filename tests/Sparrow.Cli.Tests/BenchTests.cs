using Sparrow.Graph.Builders;
using System.Text.Json;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;

namespace Sparrow.Cli.Tests;

[Trait(Needs.Category, Needs.Operators)]
public class BenchTests
{
    [Fact]
    public void Bench_prints_both_engines_and_appends_markdown_with_the_command()
    {
        using var dir = new TempDirectory();
        var model = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(imageSize: 16), model);
        var markdown = dir.File("BENCHMARKS.md");
        File.WriteAllText(markdown, "# Benchmarks\n\nEarlier results.\n");
        var r = CliRunner.Run("bench", model, "--batch", "1,2", "--seq", "8,16", "--warmup", "1", "--runs", "3", "--threads", "1", "--markdown", markdown);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("ONNX Runtime", r.Output);
        Assert.Contains("Sparrow/ORT", r.Output);
        Assert.Contains("where Sparrow's time goes", r.Output);
        Assert.Contains("Conv", r.Output);
        var text = File.ReadAllText(markdown);
        Assert.StartsWith("# Benchmarks\n\nEarlier results.\n", text);
        Assert.Contains($"`sparrow bench {model} --batch 1,2 --seq 8,16 --warmup 1 --runs 3 --threads 1 --markdown {markdown}`", text);
        // The CNN has no sequence dimension: one row per batch size, and no seq column.
        Assert.Contains("| batch | Sparrow | ONNX Runtime | Sparrow / ORT |", text);
        Assert.Matches(@"\| 1 \| [0-9.]+ \([0-9.]+-[0-9.]+\) \| [0-9.]+ \([0-9.]+-[0-9.]+\) \| [0-9.]+x \|", text);
        Assert.Matches(@"\| 2 \| ", text);
        Assert.Contains("CPU:", text);
    }

    /// <summary>Items per second divide by the batch, so a batch the model cannot take is refused (before any run), not counted; the default sizes give way.</summary>
    [Fact]
    public void Bench_refuses_a_batch_the_model_fixes_otherwise()
    {
        using var dir = new TempDirectory();
        var model = dir.File("fixed.onnx");
        var cnn = SmallCnn.Build(imageSize: 8);
        var input = cnn.Graph.Inputs[0];
        cnn.Graph.Inputs[0] = new Sparrow.Graph.ValueInfo(input.Name, input.ElementType, [Sparrow.Graph.Dimension.Fixed(1), .. input.Shape!.Skip(1)]);
        OnnxExporter.Save(cnn, model);
        var r = CliRunner.Run("bench", model, "--batch", "1,8", "--warmup", "1", "--runs", "2", "--threads", "1");
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Contains("--batch 8", r.Error);
        Assert.Contains("always runs batch 1", r.Error);
        Assert.DoesNotContain("Sparrow/ORT", r.Output); // refused before anything was measured
        // Without --batch, the default sizes give way to the model's fixed batch.
        var json = dir.File("fixed.json");
        r = CliRunner.Run("bench", model, "--warmup", "1", "--runs", "2", "--threads", "1", "--json", json);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.All(doc.RootElement.GetProperty("results").EnumerateArray(), row => Assert.Equal(1, row.GetProperty("batch").GetInt32()));
    }

    [Fact]
    public void Bench_on_minilm_reports_batch_and_sequence()
    {
        var r = CliRunner.Run("bench", "--batch", "1", "--seq", "8,16", "--warmup", "1", "--runs", "2");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("b1 s8", r.Output);
        Assert.Contains("b1 s16", r.Output);
        // The profile names the fused operators the session runs (attention MatMuls live inside Attention).
        Assert.Contains("Linear", r.Output);
        Assert.Contains("Attention", r.Output);
    }

    [Fact]
    public void Bench_of_two_models_compares_each_with_its_own_ORT_run_and_with_ORT_on_the_first()
    {
        using var dir = new TempDirectory();
        var dense = dir.File("cnn.onnx");
        var pruned = dir.File("cnn-pruned.onnx");
        var model = SmallCnn.Build(imageSize: 16);
        OnnxExporter.Save(model, dense);
        OnnxExporter.Save(MagnitudePruner.Prune(model, 0.9).Pruned, pruned);
        var markdown = dir.File("BENCHMARKS.md");
        var json = dir.File("bench.json");
        var r = CliRunner.Run("bench", dense, pruned, "--batch", "1,2", "--warmup", "0", "--runs", "3", "--threads", "1", "--markdown", markdown, "--json", json);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Sparrow/ORT on cnn.onnx", r.Output);
        Assert.Contains("where Sparrow's time goes on cnn.onnx", r.Output);
        Assert.Contains("where Sparrow's time goes on cnn-pruned.onnx", r.Output);
        Assert.Contains("weight memory", r.Output);

        var text = File.ReadAllText(markdown);
        Assert.Contains($"`sparrow bench {dense} {pruned} --batch 1,2 --warmup 0 --runs 3 --threads 1 --markdown {markdown} --json {json}`", text);
        Assert.Contains("| batch | model | Sparrow | ONNX Runtime | Sparrow / ORT | Sparrow / ORT on cnn.onnx | Sparrow items/s | ORT items/s |", text);
        foreach (var batch in new[] { 1, 2 })
            foreach (var name in new[] { "cnn.onnx", "cnn-pruned.onnx" })
                Assert.Matches($@"\| {batch} \| {name.Replace(".", @"\.")} \| [0-9.]+ \([0-9.]+-[0-9.]+\) \| [0-9.]+ \([0-9.]+-[0-9.]+\) \| [0-9.]+x \| [0-9.]+x \| [0-9.]+ \|", text);
        // Pruned weights are still stored dense in the model: the same bytes as the dense model's, for now.
        Assert.Matches(@"\| cnn-pruned\.onnx \| [0-9.]+ \| 100\.0% \|", text);
        Assert.Contains("Where Sparrow's time goes on cnn-pruned.onnx", text);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        var models = root.GetProperty("models").EnumerateArray().ToArray();
        Assert.Equal(["cnn.onnx", "cnn-pruned.onnx"], models.Select(m => m.GetProperty("label").GetString()));
        Assert.Equal(models[0].GetProperty("initializerBytes").GetInt64(), models[1].GetProperty("initializerBytes").GetInt64());
        Assert.True(models[0].GetProperty("initializerBytes").GetInt64() > 0);
        var results = root.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(4, results.Length);
        foreach (var batch in new[] { 1, 2 })
        {
            var baseline = results.Single(x => x.GetProperty("batch").GetInt32() == batch && x.GetProperty("model").GetString() == "cnn.onnx");
            var other = results.Single(x => x.GetProperty("batch").GetInt32() == batch && x.GetProperty("model").GetString() == "cnn-pruned.onnx");
            var baselineOrt = baseline.GetProperty("ortMs").GetProperty("median").GetDouble();
            Assert.Equal(baseline.GetProperty("sparrowOverOrt").GetDouble(), baseline.GetProperty("sparrowOverBaselineOrt").GetDouble(), 9);
            Assert.Equal(other.GetProperty("sparrowMs").GetProperty("median").GetDouble() / baselineOrt, other.GetProperty("sparrowOverBaselineOrt").GetDouble(), 9);
            Assert.Equal(batch * 1000 / other.GetProperty("sparrowMs").GetProperty("median").GetDouble(), other.GetProperty("sparrowItemsPerSecond").GetDouble(), 6);
            Assert.True(other.GetProperty("profileMsPerRun").TryGetProperty("Conv", out _));
        }
    }

    [Fact]
    public void Bench_of_the_same_model_twice_labels_each_run_apart()
    {
        using var dir = new TempDirectory();
        var model = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(imageSize: 8), model);
        var r = CliRunner.Run("bench", model, model, "--batch", "1", "--warmup", "0", "--runs", "1", "--threads", "1", "--no-profile");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("(#2)", r.Output);
    }
}
