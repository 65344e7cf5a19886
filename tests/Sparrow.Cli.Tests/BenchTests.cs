using Sparrow.Graph.Builders;
using Sparrow.Graph.Onnx;

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
}
