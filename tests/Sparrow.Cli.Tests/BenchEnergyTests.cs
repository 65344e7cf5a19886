using System.Text.Json;
using Sparrow.Cli.Execution;
using Sparrow.Graph.Builders;
using Sparrow.Graph.Onnx;

namespace Sparrow.Cli.Tests;

[Collection(ChildProcesses.Name)]
[Trait(Needs.Category, Needs.Operators)]
public class BenchEnergyTests
{
    [Fact]
    public void Bench_of_dense_and_90_percent_minilm_shows_energy_for_both_and_the_estimate_follows_cpu_time()
    {
        using var dir = new TempDirectory();
        var pruned = dir.File("minilm-90.onnx");
        var prune = CliRunner.Run("prune", "--method", "magnitude", "--sparsity", "0.9", "-o", pruned);
        Assert.True(prune.ExitCode == 0, prune.ToString());
        var json = dir.File("bench.json");
        var csv = dir.File("bench.csv");
        var plot = dir.File("energy.png");
        var r = CliRunner.Run("bench", CliRunner.MiniLmPath, pruned, "--batch", "1", "--seq", "8", "--warmup", "3", "--runs", "10", "--threads", "1",
            "--no-profile", "--energy-method", "estimate", "--watts-per-core", "10", "--region", "DE", "--json", json, "--csv", csv, "--energy-plot", plot);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("J/inf", r.Output);
        Assert.Contains("J vs ", r.Output);
        Assert.Contains("estimated", r.Output);
        Assert.Contains("10 W per core", r.Output);

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var energy = doc.RootElement.GetProperty("energy");
        Assert.Equal("estimate", energy.GetProperty("energyMethod").GetString());
        Assert.Equal(381, energy.GetProperty("gramsPerKwh").GetDouble());
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(2, results.Length);
        var cpuRatio = new List<double>();
        var cpuJoulesRatio = new List<double>();
        foreach (var engine in new[] { "sparrowEnergy", "ortEnergy" })
        {
            var dense = results[0].GetProperty(engine);
            var sparse = results[1].GetProperty(engine);
            foreach (var e in new[] { dense, sparse })
            {
                var joules = e.GetProperty("energyJoulesPerInference").GetDouble();
                Assert.True(joules > 0);
                Assert.Equal(1 / joules, e.GetProperty("inferencesPerJoule").GetDouble(), 9);
                Assert.True(e.GetProperty("estimated").GetBoolean());
                Assert.Equal("estimate", e.GetProperty("energyMethod").GetString());
                // The estimate is CPU seconds × 10 W plus the DRAM term, and per million at Germany's 381 g/kWh.
                Assert.Equal(e.GetProperty("cpuSecondsPerInference").GetDouble() * 10, e.GetProperty("cpuJoulesPerInference").GetDouble(), 9);
                Assert.Equal(joules, e.GetProperty("cpuJoulesPerInference").GetDouble() + e.GetProperty("dramJoulesPerInference").GetDouble(), 9);
                Assert.Equal(joules * 1e6 / 3.6e6 * 381, e.GetProperty("gCO2ePerMillion").GetDouble(), 6);
                Assert.Equal(joules * 1e6 / 3.6e6 * 0.15, e.GetProperty("costPerMillion").GetDouble(), 9);
            }
            // The saving the estimate reports is the measured CPU-time ratio (the CPU term; DRAM adds a small wall-time term).
            cpuRatio.Add(sparse.GetProperty("cpuSecondsPerInference").GetDouble() / dense.GetProperty("cpuSecondsPerInference").GetDouble());
            cpuJoulesRatio.Add(sparse.GetProperty("cpuJoulesPerInference").GetDouble() / dense.GetProperty("cpuJoulesPerInference").GetDouble());
        }
        for (var i = 0; i < cpuRatio.Count; i++) Assert.Equal(cpuRatio[i], cpuJoulesRatio[i], 9);
        // What the sparsity buys: Sparrow on the 90% model uses less CPU and less energy per inference than on dense,
        // and the total saving is the CPU-time saving moved by no more than the DRAM term allows.
        var denseSparrow = results[0].GetProperty("sparrowEnergy");
        var sparseSparrow = results[1].GetProperty("sparrowEnergy");
        double Get(JsonElement e, string name) => e.GetProperty(name).GetDouble();
        var figures = $"Sparrow dense: {Get(denseSparrow, "cpuSecondsPerInference")} s, {Get(denseSparrow, "energyJoulesPerInference")} J; 90%: {Get(sparseSparrow, "cpuSecondsPerInference")} s, {Get(sparseSparrow, "energyJoulesPerInference")} J";
        Assert.True(Get(sparseSparrow, "cpuSecondsPerInference") < Get(denseSparrow, "cpuSecondsPerInference"), figures);
        Assert.True(Get(sparseSparrow, "energyJoulesPerInference") < Get(denseSparrow, "energyJoulesPerInference"), figures);
        // total_s/total_d = cpu ratio × (1 + dram_s/cpu_s) / (1 + dram_d/cpu_d).
        var totalRatio = Get(sparseSparrow, "energyJoulesPerInference") / Get(denseSparrow, "energyJoulesPerInference");
        var lowest = 1 / (1 + Get(denseSparrow, "dramJoulesPerInference") / Get(denseSparrow, "cpuJoulesPerInference"));
        var highest = 1 + Get(sparseSparrow, "dramJoulesPerInference") / Get(sparseSparrow, "cpuJoulesPerInference");
        Assert.InRange(totalRatio / cpuRatio[0], lowest - 1e-9, highest + 1e-9);

        var lines = File.ReadAllLines(csv);
        Assert.Equal(string.Join(',', EnergyCsv.Columns), lines[0]);
        Assert.Equal("batch,seq,model,engine,latencyMedianMs,latencyP25Ms,latencyP75Ms,itemsPerSecond,cpuSecondsPerInference,energyJoulesPerInference,inferencesPerJoule,gCO2ePerMillion,costPerMillion,currency,energyMethod,estimated", lines[0]);
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("1,8,minilm-90.onnx,sparrow,", lines[3]);
        Assert.EndsWith(",USD,estimate,true", lines[3]);

        AssertPng(plot);
    }

    [Fact]
    public void Bench_json_without_a_file_prints_json_alone()
    {
        using var dir = new TempDirectory();
        var model = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(imageSize: 8), model);
        var r = CliRunner.Run("bench", model, "--batch", "1", "--warmup", "0", "--runs", "2", "--threads", "1", "--no-profile", "--energy-method", "estimate", "--json");
        Assert.True(r.ExitCode == 0, r.ToString());
        using var doc = JsonDocument.Parse(r.Output);
        var result = doc.RootElement.GetProperty("results")[0];
        Assert.True(result.GetProperty("sparrowEnergy").GetProperty("energyJoulesPerInference").GetDouble() > 0);
        Assert.DoesNotContain("latency per run", r.Output);
    }

    [Fact]
    public void Energy_plots_are_valid_images()
    {
        using var dir = new TempDirectory();
        EnergyPlots.Point[] points =
        [
            new("dense", 0, 1.0, 0.040),
            new("50%", 0.5, 0.99, 0.030),
            new("2:4", 0.5, 0.97, 0.033),
            new("90%", 0.9, 0.90, 0.012),
        ];
        var bySparsity = dir.File("sparsity.png");
        EnergyPlots.SaveBySparsity(bySparsity, points, "energy per inference");
        AssertPng(bySparsity);
        var pareto = dir.File("pareto.png");
        EnergyPlots.SavePareto(pareto, points, "quality against energy", "cosine to dense");
        AssertPng(pareto);
        var svg = dir.File("pareto.svg");
        EnergyPlots.SavePareto(svg, points, "quality against energy");
        Assert.Contains("<svg", File.ReadAllText(svg));
        // 2:4 costs more and scores less than 50%: off the front.
        Assert.Equal(["90%", "50%", "dense"], EnergyPlots.ParetoFront(points).Select(p => p.Name));
        Assert.Throws<ArgumentException>(() => EnergyPlots.SavePareto(dir.File("none.png"), [new("x", 0, null, 1)], "t"));
    }

    private static void AssertPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 10_000, $"{path}: {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        // IHDR: width and height (big-endian) at bytes 16-23.
        var width = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
        var height = (bytes[20] << 24) | (bytes[21] << 16) | (bytes[22] << 8) | bytes[23];
        Assert.Equal(800, width);
        Assert.Equal(520, height);
    }
}
