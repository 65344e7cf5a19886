using System.Text.RegularExpressions;
using Sparrow.Cli.Execution.Report;

namespace Sparrow.Cli.Tests;

public class ReportTests
{
    private static readonly Regex ImageSource = new("<img\\s+src=\"([^\"]*)\"", RegexOptions.Compiled);

    [Fact]
    public void Result_files_are_told_apart_by_their_members()
    {
        using var folder = new TempDirectory();
        var (bench, eval, sensitivity) = ReportSamples.WriteAll(folder, energy: false);
        Assert.IsType<BenchFile>(ResultFileReader.Read(bench).File);
        Assert.IsType<EvalFile>(ResultFileReader.Read(eval).File);
        Assert.IsType<SensitivityFile>(ResultFileReader.Read(sensitivity).File);
    }

    [Fact]
    public void Variants_are_matched_across_files_by_path_and_the_embedded_reference_becomes_the_bench_baseline()
    {
        using var folder = new TempDirectory();
        var (bench, eval, _) = ReportSamples.WriteAll(folder, energy: false);
        var data = ReportInputs.Read([bench, eval]);

        Assert.Equal(["dense.onnx", "m50.onnx", "m90.onnx"], data.Variants.Select(v => v.Name));
        var dense = data.Variants[0];
        Assert.True(dense.IsBaseline);
        Assert.Equal(1.0, dense.MeanCosine);
        Assert.Equal(0.9, dense.Tasks["spam"].Accuracy);
        Assert.Contains(data.Notes, n => n.Contains("embedded all-MiniLM-L6-v2", StringComparison.Ordinal));

        var m90 = data.Variants[2];
        Assert.Equal(0.6, m90.MeanCosine);
        Assert.Equal(-0.2, m90.Tasks["spam"].Difference);
        Assert.Equal(20_000_000, m90.SessionWeightBytes);
        Assert.Equal(2, m90.Latency.Count);
        var b1 = m90.Latency.Single(l => l.Batch == 1);
        Assert.Equal(10.0 / 4.0, b1.SpeedupVsDense!.Value, 9);
        Assert.Equal(11.2 / 4.0, b1.SpeedupVsOrt!.Value, 9);
        Assert.Equal(11.0 / 4.0, b1.SpeedupVsDenseOrt!.Value, 9);
        // At batch 8 the 50 % model is slower than dense: the break-even shows as a speed-up below 1.
        Assert.Equal(40.0 / 50.0, data.Variants[1].Latency.Single(l => l.Batch == 8).SpeedupVsDense!.Value, 9);
        Assert.Null(b1.Energy);
        Assert.False(data.HasEnergy);
    }

    [Fact]
    public void Energy_fields_are_read_when_present()
    {
        using var folder = new TempDirectory();
        var (bench, _, _) = ReportSamples.WriteAll(folder, energy: true);
        var data = ReportInputs.Read([bench]);
        Assert.True(data.HasEnergy);
        var energy = data.Variants.Single(v => v.Name == "m90.onnx").Latency.Single(l => l.Batch == 1).Energy!;
        Assert.Equal(0.20, energy.JoulesPerInference);
        Assert.Equal(5.0, energy.InferencesPerJoule!.Value, 9);
        Assert.Equal(0.20 * 1e6 / 3.6e6 * 475, energy.GramsCo2ePerMillion!.Value, 9);
        Assert.Equal("estimate", energy.Method);
        Assert.Equal("EUR", energy.Currency); // from the file's energy block
        Assert.Equal(0.22, energy.OrtJoulesPerInference!.Value, 9); // ortEnergy
    }

    [Fact]
    public void Older_flat_energy_fields_still_read()
    {
        var row = new BenchResultEntry { EnergyJoulesPerInference = 0.5, EnergyMethod = "rapl", Currency = "USD", OrtEnergyJoulesPerInference = 0.6 };
        var energy = ReportInputs.EnergyOf(row, null)!;
        Assert.Equal(0.5, energy.JoulesPerInference);
        Assert.Equal(2.0, energy.InferencesPerJoule!.Value, 9);
        Assert.Equal("rapl", energy.Method);
        Assert.Equal("USD", energy.Currency);
        Assert.Equal(0.6, energy.OrtJoulesPerInference);
        Assert.Null(ReportInputs.EnergyOf(new BenchResultEntry(), null));
    }

    [Fact]
    public void Model_paths_resolve_beside_the_json_file_and_match_a_given_model_file()
    {
        using var folder = new TempDirectory();
        var (bench, _, _) = ReportSamples.WriteAll(folder, energy: false);
        var models = Directory.CreateDirectory(folder.File("models")).FullName;
        var m50 = Path.Combine(models, "m50.onnx");
        File.WriteAllBytes(m50, []);
        Assert.Equal(m50, ReportInputs.Resolve("models/m50.onnx", bench));

        var data = new ReportData();
        var variant = new Variant("m50.onnx", m50);
        data.Variants.Add(variant);
        Assert.Same(variant, ReportInputs.TryFind(data, m50, "m50.onnx"));
        // A path that exists nowhere (bench ran elsewhere) falls back to the file name.
        Assert.Same(variant, ReportInputs.TryFind(data, "/elsewhere/m50.onnx", "m50.onnx"));
        // Two files that both exist and differ are two models, even with one file name.
        var other = Directory.CreateDirectory(folder.File("run2")).FullName;
        File.WriteAllBytes(Path.Combine(other, "m50.onnx"), []);
        Assert.Null(ReportInputs.TryFind(data, Path.Combine(other, "m50.onnx"), "m50.onnx"));
    }

    [Fact]
    public void Pareto_front_keeps_only_points_no_other_beats_on_both_axes()
    {
        var points = new[] { (10.0, 1.0), (8.0, 0.95), (9.0, 0.9), (4.0, 0.6), (5.0, 0.5) };
        Assert.Equal([(4.0, 0.6), (8.0, 0.95), (10.0, 1.0)], ReportPlots.ParetoFront(points, lowerXBetter: true));
        var bySparsity = new[] { (0.0, 1.0), (50.0, 0.95), (50.0, 0.9), (90.0, 0.6) };
        Assert.Equal([(90.0, 0.6), (50.0, 0.95), (0.0, 1.0)], ReportPlots.ParetoFront(bySparsity, lowerXBetter: false));
    }

    [Fact]
    public void Html_holds_the_tables_and_every_image_is_an_embedded_png()
    {
        using var folder = new TempDirectory();
        var (bench, eval, sensitivity) = ReportSamples.WriteAll(folder, energy: false);
        var html = folder.File("report.html");
        var markdown = folder.File("report.md");
        var result = ReportBuilder.Write([bench, eval, sensitivity], html, markdown, "Test <report>");

        var page = File.ReadAllText(html);
        Assert.Contains("<title>Test &lt;report&gt;</title>", page);
        foreach (var header in new[] { "mean cosine", "spam acc. %", "speed-up b1 s32", "speed-up b8 s32", "vs ORT dense", "in session MB" })
            Assert.Contains($">{header}</th>", page);
        Assert.Contains("<td>m90.onnx</td>", page);
        Assert.Contains(">2.50x</td>", page); // m90 at b1: 10 ms dense / 4 ms
        Assert.Contains(">0.80x</td>", page); // m50 at b8: slower than dense
        Assert.Contains(">70.0 (-20.0 ± 7.0)</td>", page);
        Assert.DoesNotContain(">Energy</h2>", page);

        // Self-contained: every image inline, nothing fetched from elsewhere, no scripts.
        var sources = ImageSource.Matches(page).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(result.Document.Images.Count(), sources.Length);
        Assert.True(sources.Length >= 3, $"expected the latency, sparsity and sensitivity plots, got {sources.Length} images");
        foreach (var source in sources) AssertPngDataUri(source);
        Assert.Equal(sources.Length, Regex.Matches(page, "<img ").Count);
        Assert.DoesNotContain("<script", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", page, StringComparison.Ordinal);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_has_the_same_tables_and_links_png_files_beside_it()
    {
        using var folder = new TempDirectory();
        var (bench, eval, sensitivity) = ReportSamples.WriteAll(folder, energy: true);
        var output = Directory.CreateDirectory(folder.File("out")).FullName;
        var markdown = Path.Combine(output, "summary.md");
        var result = ReportBuilder.Write([bench, eval, sensitivity], Path.Combine(output, "summary.html"), markdown, "Markdown test");

        var text = File.ReadAllText(markdown);
        Assert.StartsWith("# Markdown test\n", text);
        Assert.Contains("| model | mean cosine | lowest cosine | spam acc. % | weights MB | speed-up b1 s32 | speed-up b8 s32 | mJ/inference b1 s32 |", text);
        Assert.Contains("| m90.onnx | 0.6000 | 0.4000 | 70.0 (-20.0 ± 7.0) | 20.0 | 2.50x | 2.00x | 200.000 |", text);
        Assert.Contains("| m90.onnx |", text);
        Assert.Contains("## Energy", text);
        Assert.Contains("gCO2e per million", text);
        var links = Regex.Matches(text, @"!\[[^\]]*\]\(([^)]+)\)").Select(m => Uri.UnescapeDataString(m.Groups[1].Value)).ToArray();
        Assert.Equal(result.Document.Images.Select(i => $"summary-{i.Name}.png"), links);
        Assert.Contains("summary-energy-per-inference.png", links);
        Assert.Contains("summary-quality-vs-energy.png", links); // energy against quality: the Pareto view (issue 6)
        Assert.Contains("summary-sensitivity.png", links);
        foreach (var link in links)
        {
            var png = File.ReadAllBytes(Path.Combine(output, link));
            Assert.Equal(0x89, png[0]);
            Assert.Equal("PNG", System.Text.Encoding.ASCII.GetString(png, 1, 3));
        }
        // The HTML says the same: the energy section and its plot are there too.
        var page = File.ReadAllText(Path.Combine(output, "summary.html"));
        Assert.Contains(">Energy</h2>", page);
        Assert.Contains(">mJ/inference b1 s32</th>", page);
        Assert.Contains(">200.000</td>", page); // m90 at b1: 0.2 J
    }

    [Fact]
    public void Report_command_refuses_unrecognised_json_naming_the_file()
    {
        using var folder = new TempDirectory();
        var other = folder.File("package.json");
        File.WriteAllText(other, """{ "name": "left-pad", "version": "1.3.0" }""");
        var r = CliRunner.Run("report", other, "-o", folder.File("r.html"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(other, r.Error);
        Assert.Contains("not results of sparrow bench, eval or sensitivity", r.Error);

        var broken = folder.File("broken.json");
        File.WriteAllText(broken, "{ \"results\": [ ");
        r = CliRunner.Run("report", broken, "-o", folder.File("r.html"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(broken, r.Error);

        var text = folder.File("notes.txt");
        File.WriteAllText(text, "hello");
        r = CliRunner.Run("report", text);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(text, r.Error);

        var model = folder.File("corrupt.onnx");
        File.WriteAllText(model, "not a model");
        r = CliRunner.Run("report", model, "-o", folder.File("r.html"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(model, r.Error);

        r = CliRunner.Run("report", folder.File("missing.json"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("missing.json", r.Error);
        Assert.False(File.Exists(folder.File("r.html")));
    }

    /// <summary>A second bench file that did not measure the dense model is compared with the first file's dense model, not made a baseline of its own.</summary>
    [Fact]
    public void One_baseline_for_all_bench_files()
    {
        using var folder = new TempDirectory();
        var bench = folder.File("bench.json");
        File.WriteAllText(bench, ReportSamples.Bench(energy: false));
        var later = folder.File("bench2.json");
        File.WriteAllText(later, $$"""
            { "command": "sparrow bench models/m95.onnx --json bench2.json", "measuredUtc": "2026-11-28T11:00:00Z",
              "models": [ { "label": "m95.onnx", "path": "models/m95.onnx" } ],
              "results": [ {{ReportSamples.Row("m95.onnx", 1, 2.0, 11.0, 11.0, null)}} ] }
            """);
        var markdown = folder.File("r.md");
        var r = CliRunner.Run("report", bench, later, "-o", folder.File("r.html"), "--markdown", markdown);
        Assert.True(r.ExitCode == 0, r.ToString());
        var text = File.ReadAllText(markdown);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, @"\(baseline\)").Select(m => m.Index).Distinct());
        Assert.Contains("dense.onnx (baseline)", text);
        Assert.DoesNotContain("m95.onnx (baseline)", text);
        // Dense took 10 ms at batch 1 in the first file: m95 at 2 ms is 5x faster.
        Assert.Contains("5.00x", text);
    }

    [Fact]
    public void Report_command_never_writes_over_an_input()
    {
        using var folder = new TempDirectory();
        var (bench, eval, _) = ReportSamples.WriteAll(folder, energy: false);
        var before = File.ReadAllText(eval);
        var r = CliRunner.Run("report", bench, eval, "-o", eval);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("never overwrites its input", r.Error);
        r = CliRunner.Run("report", folder.Path, "-o", folder.File("r.html"), "--markdown", bench);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(before, File.ReadAllText(eval));
        r = CliRunner.Run("report", bench, "-o", folder.Path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("is a folder", r.Error);
    }

    [Fact]
    public void Report_command_takes_a_folder_of_results()
    {
        using var folder = new TempDirectory();
        ReportSamples.WriteAll(folder, energy: false);
        var output = folder.File("out/report.html");
        var r = CliRunner.Run("report", folder.Path, "-o", output, "--title", "Folder");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("Read 3 file(s): 3 model(s), 1 sensitivity result(s).", r.Output);
        Assert.Contains("Sensitivity per layer", File.ReadAllText(output));
        Assert.Contains("report", CliRunner.Run("--help").Output);
    }

    /// <summary>As a user would: prune, bench and eval with tiny settings, then report on what they wrote.</summary>
    [Fact]
    [Trait(Needs.Category, Needs.Operators)]
    public void Report_on_real_bench_and_eval_output()
    {
        using var folder = new TempDirectory();
        var dense = CliRunner.MiniLmPath;
        var pruned = folder.File("wanda50.onnx");
        var r = CliRunner.Run("prune", dense, "--method", "magnitude", "--sparsity", "0.5", "-o", pruned);
        Assert.True(r.ExitCode == 0, r.ToString());
        var bench = folder.File("bench.json");
        r = CliRunner.Run("bench", dense, pruned, "--batch", "1", "--seq", "8", "--warmup", "0", "--runs", "2", "--threads", "1", "--no-profile",
            "--energy-method", "estimate", "--json", bench);
        Assert.True(r.ExitCode == 0, r.ToString());
        var eval = folder.File("eval.json");
        var data = Path.Combine(AppContext.BaseDirectory, "TestData", "datasets");
        r = CliRunner.Run("eval", pruned, "--reference", dense, "--task", "spam", "--data", data, "--limit", "8", "--threads", "1", "--json", eval);
        Assert.True(r.ExitCode == 0, r.ToString());

        var html = folder.File("report.html");
        var markdown = folder.File("report.md");
        r = CliRunner.Run("report", bench, eval, pruned, dense, "-o", html, "--markdown", markdown);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.DoesNotContain("note", r.Output); // the reference is the bench baseline by path, no guess needed

        var page = File.ReadAllText(html);
        var baselineName = Path.GetFileName(dense);
        // The dense model has no pruning record: its prunable weights are found as a pruner would, and hold no zeros.
        var denseRow = Regex.Match(page, $"<tr><td>{Regex.Escape(baselineName)} \\(baseline\\)</td>.*?</tr>").Value;
        Assert.Contains("<td>dense</td>", denseRow);
        Assert.Contains(">0.0 %</td>", denseRow);
        Assert.Contains(">1.0000</td>", denseRow);
        Assert.Contains(">1.00x</td>", denseRow);
        // The pruned model: its record, its sparsity, its fidelity and its speed-up, all in one row.
        var row = Regex.Match(page, "<tr><td>wanda50.onnx</td>.*?</tr>").Value;
        Assert.Contains("<td>magnitude, unstructured</td>", row);
        Assert.Contains(">50.0 %</td>", row);
        Assert.Matches(">0\\.\\d{4}</td>", row);
        Assert.Matches(">\\d+\\.\\d\\dx</td>", row);
        Assert.Contains("Sparsity per layer", page);
        Assert.Contains("## Sparsity per layer", File.ReadAllText(markdown));
        // Energy from bench's real JSON (nested sparrowEnergy, currency in the energy block): the section, its table and plots.
        Assert.Contains(">Energy</h2>", page);
        Assert.Contains("## Energy", File.ReadAllText(markdown));
        Assert.Matches(">mJ/inference b1 s8</th>", page);
        var sources = ImageSource.Matches(page).Select(m => m.Groups[1].Value).ToArray();
        // energy per inference, quality vs energy, quality vs latency (b1 s8), quality vs sparsity, the pruned model's layers
        Assert.Equal(5, sources.Length);
        foreach (var source in sources) AssertPngDataUri(source);
        foreach (var file in Directory.GetFiles(folder.Path, "report-*.png")) Assert.True(new FileInfo(file).Length > 1000, file);
        Assert.Equal(5, Directory.GetFiles(folder.Path, "report-*.png").Length);
        Assert.True(File.Exists(folder.File("report-energy-per-inference.png")));
        Assert.True(File.Exists(folder.File("report-quality-vs-energy.png")));
    }

    internal static void AssertPngDataUri(string source)
    {
        const string prefix = "data:image/png;base64,";
        Assert.StartsWith(prefix, source);
        var bytes = Convert.FromBase64String(source[prefix.Length..]);
        var (width, height) = ReportPlots.PngSize(bytes);
        Assert.True(width > 100 && height > 100, $"image {width}x{height}");
        Assert.True(bytes.Length > 2000, $"a PNG of {bytes.Length} bytes is too small to hold a plot");
    }
}
