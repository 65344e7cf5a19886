using System.Globalization;
using System.Text;
using Sparrow.Energy;

namespace Sparrow.Cli.Execution;

/// <summary>Energy per inference of one engine on one model at one batch and sequence, from the readings around its timed runs.</summary>
/// <param name="JoulesPerInference">Joules of all timed runs over the items they processed (runs × batch).</param>
/// <param name="CpuSecondsPerInference">CPU seconds (user + system, whole process) per item.</param>
/// <param name="CpuJoulesPerInference">The CPU term per item (for counters: all of it).</param>
/// <param name="DramJoulesPerInference">The estimate's DRAM term per item (0 for counters).</param>
/// <param name="Method">How the joules were obtained.</param>
internal sealed record EnergyStats(double JoulesPerInference, double CpuSecondsPerInference, double CpuJoulesPerInference, double DramJoulesPerInference, EnergyMethod Method)
{
    /// <param name="runsPerReading">Runs each reading covers: 1 when read around each run, the block's runs when read around a block (perf).</param>
    public static EnergyStats? Of(IReadOnlyCollection<EnergyReading> readings, int batch, int runsPerReading = 1)
    {
        if (readings.Count == 0) return null;
        double items = (double)readings.Count * runsPerReading * batch;
        return new EnergyStats(readings.Sum(r => r.Joules) / items, readings.Sum(r => r.CpuSeconds ?? 0) / items,
            readings.Sum(r => r.CpuJoules) / items, readings.Sum(r => r.DramJoules) / items, readings.First().Method);
    }

    public double InferencesPerJoule => JoulesPerInference > 0 ? 1 / JoulesPerInference : double.PositiveInfinity;
}

/// <summary>The energy parts of benchmark JSON, with stable field names.</summary>
internal static class EnergyJson
{
    public static object Of(EnergyStats e, FootprintSettings footprint)
    {
        var million = footprint.PerMillion(e.JoulesPerInference);
        return new
        {
            energyJoulesPerInference = e.JoulesPerInference,
            inferencesPerJoule = double.IsFinite(e.InferencesPerJoule) ? e.InferencesPerJoule : (double?)null,
            gCO2ePerMillion = million.GramsCo2e,
            costPerMillion = million.Cost,
            energyMethod = EnergyFormat.MethodName(e.Method),
            estimated = e.Method == EnergyMethod.Estimate,
            cpuSecondsPerInference = e.CpuSecondsPerInference,
            cpuJoulesPerInference = e.CpuJoulesPerInference,
            dramJoulesPerInference = e.DramJoulesPerInference,
        };
    }

    /// <summary>How energy was measured and turned into carbon and cost, once per file.</summary>
    public static object Settings(FootprintSettings footprint, EnergyMeterChoice meter) => new
    {
        energyMethod = EnergyFormat.MethodName(meter.Meter.Method),
        estimated = meter.Meter.Method == EnergyMethod.Estimate,
        description = meter.Meter.Description,
        inputs = meter.Meter is EstimatedEnergyMeter e ? e.Cpu.Describe().Append(new EnergyInput("DRAM watts per GiB", e.DramWattsPerGigabyte.ToString("0.###", CultureInfo.InvariantCulture) + " W")).ToDictionary(i => i.Name, i => i.Value) : null,
        skipped = meter.Skipped,
        region = footprint.Grid.Code,
        gramsPerKwh = footprint.Grid.GramsPerKilowattHour,
        carbonSource = $"{footprint.Grid.Source}, {footprint.Grid.Year}",
        pue = footprint.Pue,
        pricePerKwh = footprint.PricePerKilowattHour,
        currency = footprint.Currency,
    };
}

/// <summary>One CSV row of benchmark results.</summary>
internal sealed record BenchCsvRow(
    int Batch, int? Sequence, string Model, string Engine, BenchStats Latency, double ItemsPerSecond, EnergyStats? Energy, Footprint? PerMillion);

/// <summary>Benchmark results as CSV with stable columns (RFC 4180 quoting, invariant numbers).</summary>
internal static class EnergyCsv
{
    public static readonly string[] Columns =
    [
        "batch", "seq", "model", "engine", "latencyMedianMs", "latencyP25Ms", "latencyP75Ms", "itemsPerSecond",
        "cpuSecondsPerInference", "energyJoulesPerInference", "inferencesPerJoule", "gCO2ePerMillion", "costPerMillion", "currency", "energyMethod", "estimated",
    ];

    public static string Write(IEnumerable<BenchCsvRow> rows, string currency)
    {
        var csv = new StringBuilder();
        csv.AppendLine(string.Join(',', Columns));
        foreach (var r in rows)
        {
            var e = r.Energy;
            string[] cells =
            [
                Number(r.Batch), r.Sequence is { } s ? Number(s) : "", r.Model, r.Engine,
                Number(r.Latency.Median), Number(r.Latency.P25), Number(r.Latency.P75), Number(r.ItemsPerSecond),
                e is null ? "" : Number(e.CpuSecondsPerInference), e is null ? "" : Number(e.JoulesPerInference),
                e is null || !double.IsFinite(e.InferencesPerJoule) ? "" : Number(e.InferencesPerJoule),
                r.PerMillion is { } m ? Number(m.GramsCo2e) : "", r.PerMillion is { } m2 ? Number(m2.Cost) : "", currency,
                e is null ? "" : EnergyFormat.MethodName(e.Method), e is null ? "" : (e.Method == EnergyMethod.Estimate ? "true" : "false"),
            ];
            csv.AppendLine(string.Join(',', cells.Select(Quote)));
        }
        return csv.ToString();
    }

    /// <summary>The columns of <c>sparrow energy --csv</c>: one row per measured command.</summary>
    public static readonly string[] CommandColumns =
    [
        "measuredUtc", "command", "exitCode", "durationSeconds", "cpuSeconds", "joules", "kilowattHours", "gCO2e", "cost", "currency",
        "energyMethod", "estimated", "region", "gramsPerKwh", "pue", "pricePerKwh",
    ];

    /// <summary>
    /// <paramref name="existing"/> (the file's text, or null when there is none) with one more row for a measured
    /// command, as CodeCarbon appends to its emissions.csv; a file with other columns is refused, not overwritten.
    /// </summary>
    public static string AppendCommandRow(string? existing, string path, EnergyRunResult r, FootprintSettings s, DateTime measuredUtc)
    {
        CheckCommandFile(existing, path);
        var csv = new StringBuilder(existing is { Length: > 0 } ? existing : string.Join(',', CommandColumns) + "\n");
        string[] cells =
        [
            measuredUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), string.Join(' ', r.Command), Number(r.ExitCode),
            Number(r.Duration.TotalSeconds), Number(r.CpuSeconds), Number(r.Reading.Joules), Number(r.Reading.KilowattHours),
            Number(r.Footprint.GramsCo2e), Number(r.Footprint.Cost), s.Currency, EnergyFormat.MethodName(r.Reading.Method),
            r.Reading.IsEstimated ? "true" : "false", s.Grid.Code, Number(s.Grid.GramsPerKilowattHour), Number(s.Pue), Number(s.PricePerKilowattHour),
        ];
        csv.Append(string.Join(',', cells.Select(Quote))).Append('\n');
        return csv.ToString();
    }

    /// <summary>Refuses a file that was not written by <c>sparrow energy --csv</c> (its first line is not our header).</summary>
    public static void CheckCommandFile(string? existing, string path)
    {
        if (existing is { Length: > 0 } && !existing.StartsWith(string.Join(',', CommandColumns) + "\n", StringComparison.Ordinal))
            throw new UsageException($"--csv {path} exists with other columns; give a new file or one written by sparrow energy --csv.");
    }

    private static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Number(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string cell) =>
        cell.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
}
