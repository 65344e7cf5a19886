using System.Text.Json;
using Sparrow.Cli.Execution.Demo;

namespace Sparrow.Cli.Tests;

/// <summary><c>sparrow demo</c> run as a user would, with the quick settings so that it takes seconds.</summary>
public class DemoTests
{
    private static readonly string[] Variants = ["dense", "wanda-50", "wanda-2-4", "sparsegpt-90"];

    [Fact]
    [Trait(Needs.Category, Needs.Operators)]
    public void Demo_quick_writes_models_results_and_the_table()
    {
        using var folder = new TempDirectory();
        var output = Path.Combine(folder.Path, "out");
        var jsonFile = folder.File("summary.json");
        var r = CliRunner.Run("demo", "--quick", "--out", output, "--json", jsonFile);
        Assert.True(r.ExitCode == 0, r.ToString());

        // Files: the models (the input is embedded, so nothing of the user's is touched) and the results.
        foreach (var name in new[] { "dense.onnx", "wanda-50.onnx", "wanda-2-4.onnx", "sparsegpt-90.onnx", DemoRun.EvalFile, DemoRun.BenchFile, DemoRun.BenchTablesFile, DemoRun.SummaryFile, DemoRun.ReportFile, DemoRun.ReportMarkdownFile })
            Assert.True(File.Exists(Path.Combine(output, name)), $"{name} is missing\n{r}");
        Assert.Empty(Directory.EnumerateFiles(output, "*.tmp*"));

        // The table: one row per variant, the columns a reader needs.
        foreach (var title in new[] { "dense", "Wanda 50%", "Wanda 2:4", "SparseGPT 90%" }) Assert.Contains(title, r.Output);
        foreach (var column in new[] { "sparsity", "fidelity", "fortunes acc.", "spam acc.", "b1 ms", "b2 ms", "vs dense", "vs ORT", "file MB" }) Assert.Contains(column, r.Output);
        // Energy per inference: the column names the method the chooser took (rapl, perf or estimate, by machine).
        Assert.Contains("mJ/inference", r.Output);
        // The report has the variants, its plots and the energy bench measured.
        var html = File.ReadAllText(Path.Combine(output, DemoRun.ReportFile));
        foreach (var name in Variants.Skip(1)) Assert.Contains(name, html);
        Assert.Contains("data:image/png;base64,", html);
        Assert.Contains(">Energy</h2>", html);

        // --json FILE holds the same summary as the folder's demo-summary.json.
        using var summary = JsonDocument.Parse(File.ReadAllText(jsonFile));
        using var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, DemoRun.SummaryFile)));
        Assert.Equal(saved.RootElement.GetProperty("rows").GetRawText(), summary.RootElement.GetProperty("rows").GetRawText());

        var rows = summary.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(Variants, rows.Select(row => row.GetProperty("variant").GetString()));
        var dense = rows[0];
        Assert.Equal(1.0, dense.GetProperty("meanCosine").GetDouble());
        Assert.Equal(0.0, dense.GetProperty("sparsity").GetDouble());
        double[] expectedSparsity = [0, 0.5, 0.5, 0.9];
        for (var i = 0; i < rows.Length; i++)
        {
            var row = rows[i];
            Assert.InRange(row.GetProperty("sparsity").GetDouble(), expectedSparsity[i] - 0.005, expectedSparsity[i] + 0.005);
            Assert.InRange(row.GetProperty("meanCosine").GetDouble(), i == 0 ? 1.0 : 0.0, i == 0 ? 1.0 : 0.9999);
            foreach (var task in new[] { "fortunes", "spam" }) Assert.InRange(row.GetProperty("accuracy").GetProperty(task).GetDouble(), 0.0, 1.0);
            var latency = row.GetProperty("latency").EnumerateArray().ToArray();
            Assert.Equal(new[] { 1, 2 }, latency.Select(l => l.GetProperty("batch").GetInt32()));
            foreach (var l in latency)
            {
                Assert.True(l.GetProperty("sparrowMs").GetDouble() > 0 && l.GetProperty("ortMs").GetDouble() > 0);
                Assert.True(double.IsFinite(l.GetProperty("speedupVsDense").GetDouble()) && l.GetProperty("speedupVsDense").GetDouble() > 0);
                if (i == 0) Assert.Equal(1.0, l.GetProperty("speedupVsDense").GetDouble());
            }
            Assert.True(row.GetProperty("fileBytes").GetInt64() > 1_000_000);
            foreach (var l in latency) Assert.True(l.GetProperty("sparrowJoules").GetDouble() > 0, "energy per inference");
            foreach (var l in latency) Assert.Contains(l.GetProperty("energyMethod").GetString()!, r.Output); // the table names the method
            Assert.True(row.GetProperty("sessionWeightBytes").GetInt64() > 0);
        }
        // Chance is 1/12 on fortunes and 1/2 on spam; the dense model's embeddings do far better even on a few items.
        Assert.True(dense.GetProperty("accuracy").GetProperty("fortunes").GetDouble() > 2.0 / 12, summary.RootElement.GetRawText());
        Assert.True(dense.GetProperty("accuracy").GetProperty("spam").GetDouble() > 0.6, summary.RootElement.GetRawText());
        // The compact files shrink with sparsity: 90% is well below the dense file.
        Assert.True(rows[3].GetProperty("fileBytes").GetInt64() < 0.8 * dense.GetProperty("fileBytes").GetInt64());

        // eval.json and bench.json have the shapes `sparrow eval --json` and `sparrow bench --json` write.
        using var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, DemoRun.EvalFile)));
        var evalResults = eval.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(4, evalResults.Length);
        Assert.True(evalResults[0].GetProperty("isReference").GetBoolean());
        Assert.Equal(2, evalResults[1].GetProperty("versusReference").GetArrayLength());
        Assert.Equal(2, eval.RootElement.GetProperty("tasks").GetArrayLength());
        using var bench = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, DemoRun.BenchFile)));
        Assert.Equal(8, bench.RootElement.GetProperty("results").GetArrayLength());
        Assert.Equal(4, bench.RootElement.GetProperty("models").GetArrayLength());
        Assert.True(bench.RootElement.GetProperty("results")[0].GetProperty("sparrowMs").GetProperty("median").GetDouble() > 0);
    }

    [Fact]
    public void Demo_refuses_a_file_as_output_folder()
    {
        using var folder = new TempDirectory();
        var file = folder.File("taken");
        File.WriteAllText(file, "mine");
        var r = CliRunner.Run("demo", "--quick", "--out", file);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--out", r.Error);
        Assert.Equal("mine", File.ReadAllText(file));
    }

    [Fact]
    public void Demo_help_lists_its_options_with_defaults()
    {
        var r = CliRunner.Run("demo", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var option in new[] { "--out", "sparrow-demo", "--threads", "--quick", "--json" }) Assert.Contains(option, r.Output);
        Assert.DoesNotContain("make-samples", r.Output);
    }
}
