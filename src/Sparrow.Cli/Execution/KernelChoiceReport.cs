using System.Globalization;
using Sparrow.Runtime.Sparsity;
using Spectre.Console;

namespace Sparrow.Cli.Execution;

/// <summary>The kernel a session chose for each weight, as a table and as one line, for inspect, verify and bench.</summary>
internal static class KernelChoiceReport
{
    public static Table Table(IReadOnlyList<WeightKernelChoice> choices, string title = "kernel per weight")
    {
        var table = new Table().Border(TableBorder.Simple).Title(title)
            .AddColumn("node").AddColumn(new TableColumn("shape (out x in)").RightAligned()).AddColumn(new TableColumn("zeros").RightAligned())
            .AddColumn("kernel").AddColumn(new TableColumn("bytes").RightAligned()).AddColumn(new TableColumn("of dense").RightAligned()).AddColumn("chosen");
        foreach (var c in choices)
            table.AddRow(
                Markup.Escape(c.NodeName),
                $"{c.Rows} x {c.Columns}",
                Percent(c.Sparsity),
                Markup.Escape(c.IsSparse ? c.Description : c.Kernel),
                FormatBytes(c.Bytes),
                c.DenseBytes == 0 ? "-" : Percent((double)c.Bytes / c.DenseBytes),
                Markup.Escape(How(c)));
        return table;
    }

    /// <summary>The choices as JSON rows (stable camelCase names), for --json.</summary>
    public static object[] Json(IReadOnlyList<WeightKernelChoice> choices) => choices.Select(c => (object)new
    {
        node = c.NodeName,
        weight = c.WeightName,
        rows = c.Rows,
        columns = c.Columns,
        sparsity = c.Sparsity,
        kernel = c.Kernel,
        description = c.Description,
        bytes = c.Bytes,
        denseBytes = c.DenseBytes,
        source = c.Source.ToString(),
        how = How(c),
    }).ToArray();

    /// <summary>"36 sparse (CSR 24, Bitmask 12), 1 dense; 6.5 MB held for 42.5 MB dense".</summary>
    public static string Summary(IReadOnlyList<WeightKernelChoice> choices)
    {
        if (choices.Count == 0) return "no constant MatMul, Gemm or Linear weights";
        var sparse = choices.Where(c => c.IsSparse).ToArray();
        var text = sparse.Length == 0
            ? $"{choices.Count} dense"
            : $"{sparse.Length} sparse ({string.Join(", ", sparse.GroupBy(c => c.Kernel).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"))}), {choices.Count - sparse.Length} dense";
        return $"{text}; {FormatBytes(choices.Sum(c => c.Bytes))} held for {FormatBytes(choices.Sum(c => c.DenseBytes))} as dense float32";
    }

    private static string How(WeightKernelChoice c) => c.Source switch
    {
        KernelChoiceSource.Measured when c.Timings.FirstOrDefault(t => t.Kernel == c.Kernel) is { } t =>
            $"measured ({t.OneRowMilliseconds * 1000:0} us at 1 row, {t.BatchMilliseconds * 1000:0} us at {c.BatchRows}){Speedup(c, t)}",
        KernelChoiceSource.Measured => "measured",
        KernelChoiceSource.Cached => "cached" + (c.Timings.FirstOrDefault(t => t.Kernel == c.Kernel) is { } t ? Speedup(c, t) : ""),
        KernelChoiceSource.Threshold => $"dense: {Percent(c.Sparsity)} zeros",
        KernelChoiceSource.Forced => "forced",
        KernelChoiceSource.Fallback => "fallback: " + c.Reason,
        _ => c.Reason,
    };

    private static string Speedup(WeightKernelChoice c, KernelTiming chosen) =>
        c.IsSparse && c.Timings.FirstOrDefault(t => t.Kernel == "Dense") is { } dense && chosen.TotalMilliseconds > 0
            ? $", {(dense.TotalMilliseconds / chosen.TotalMilliseconds).ToString("0.0", CultureInfo.InvariantCulture)}x dense"
            : "";

    private static string Percent(double fraction) => (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
