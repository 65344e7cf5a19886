using System.Globalization;
using Sparrow.Graph;

namespace Sparrow.Cli.Execution;

/// <summary>Medians and spread of timed samples (milliseconds).</summary>
internal sealed record BenchStats(double Median, double P25, double P75, double Min)
{
    public static BenchStats Of(IReadOnlyCollection<double> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("No samples to summarise.", nameof(samples));
        var sorted = samples.Order().ToArray();
        return new BenchStats(Percentile(sorted, 0.5), Percentile(sorted, 0.25), Percentile(sorted, 0.75), sorted[0]);
    }

    /// <summary>The <paramref name="p"/>-quantile of sorted samples, interpolated linearly between ranks; NaN when empty.</summary>
    internal static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0) return double.NaN;
        var x = p * (sorted.Length - 1);
        var lo = (int)Math.Floor(x);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
    }
}

/// <summary>How benchmark commands write their results: Markdown appended to a file, JSON written whole, numbers formatted alike.</summary>
internal static class BenchOutput
{
    /// <summary>Refuses a folder as an output file before anything is measured.</summary>
    public static void CheckFileOption(string? path, string option)
    {
        if (path is not null && Directory.Exists(path)) throw new UsageException($"{option} {path} is a folder; give a file name.");
    }

    /// <summary>Appends a section to a Markdown file (created with <paramref name="title"/> when missing, if one is given), replacing it atomically.</summary>
    public static void AppendMarkdown(string path, string section, string? title = "# Benchmarks")
    {
        // A device (/dev/stdout) cannot be read back first: reading a terminal waits for the keyboard.
        if (AtomicFile.IsDevice(Path.GetFullPath(path)))
        {
            File.AppendAllText(path, section);
            return;
        }
        var existing = File.Exists(path) ? File.ReadAllText(path) : title is null ? "" : title + "\n";
        var separator = existing.Length == 0 || existing.EndsWith("\n\n", StringComparison.Ordinal) ? "" : existing.EndsWith('\n') ? "\n" : "\n\n";
        AtomicFile.WriteAllText(path, existing + separator + section);
    }

    /// <summary>Writes results as JSON the way every command does (<see cref="JsonOutput"/>), atomically.</summary>
    public static void WriteJson(string path, object results) =>
        AtomicFile.WriteAllText(path, JsonOutput.Serialize(results) + "\n");

    /// <summary>Where and how a measurement ran, for the JSON files.</summary>
    public static object Machine(int threads) => new
    {
        Cpu = MachineInfo.CpuModel,
        LogicalCores = MachineInfo.LogicalCores,
        VectorIsa = MachineInfo.VectorIsa,
        MachineInfo.Runtime,
        OnnxRuntime = OrtModelRunner.Version,
        Threads = threads,
    };

    /// <summary>Milliseconds with about three significant digits; under a microsecond as many decimals as needed (never "0.000" for a time that is not 0).</summary>
    public static string Ms(double ms) =>
        ms.ToString(ms >= 100 ? "0" : ms >= 10 ? "0.0" : ms >= 0.1 ? "0.00" : ms >= 0.001 || ms == 0 ? "0.000" : "0.000######", CultureInfo.InvariantCulture);

    public static string Spread(BenchStats s) => $"{Ms(s.Median)} ({Ms(s.P25)}-{Ms(s.P75)})";

    public static string Ratio(double r) => double.IsFinite(r) ? r.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-";

    public static string Gflops(double flops, double ms) => flops <= 0 || ms <= 0 ? "-" : (flops / (ms * 1e6)).ToString("0.0", CultureInfo.InvariantCulture);

    public static string MegaBytes(long bytes) => (bytes / 1e6).ToString(bytes >= 100e6 ? "0" : bytes >= 1e6 ? "0.0" : "0.000", CultureInfo.InvariantCulture);

    public static string PerSecond(double count, double ms) => ms <= 0 ? "-" : (count * 1000 / ms).ToString(count * 1000 / ms >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);
}
