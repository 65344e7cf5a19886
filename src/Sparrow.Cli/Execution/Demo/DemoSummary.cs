using System.Globalization;
using Spectre.Console;
using static Sparrow.Cli.Execution.BenchOutput;

namespace Sparrow.Cli.Execution.Demo;

/// <summary>One model at one shape in the demo's summary; speed-ups are time ratios, above 1 this model is faster.</summary>
/// <param name="SparrowJoules">Sparrow's energy per inference in joules (see <see cref="EnergyMethod"/>); null when not measured.</param>
internal sealed record DemoShapeResult(int Batch, int? Sequence, double SparrowMs, double OrtMs, double SpeedupVsDense, double SpeedupVsOrt,
    double? SparrowJoules = null, string? EnergyMethod = null)
{
    public string Label => Sequence is { } s ? $"b{Batch} s{s}" : $"b{Batch}";
}

/// <summary>One row of the demo's table: the dense model or a pruned variant.</summary>
/// <param name="Sparsity">Zeros over the parameters of the pruned weights (the encoder's 36 Linear weights); 0 for dense.</param>
/// <param name="SparsityOfAllParameters">Zeros over every parameter, embeddings included.</param>
/// <param name="Accuracy">Task name to accuracy (0 to 1) of a classifier trained on this model's embeddings.</param>
/// <param name="InitializerBytes">Weights as stored in the model, zeros included.</param>
/// <param name="SessionWeightBytes">Weights as Sparrow's session holds them (sparse formats where they pay).</param>
/// <param name="FileBytes">The .onnx file the demo wrote (pruned models in the compact form).</param>
internal sealed record DemoRow(
    string Variant, string Title, string? File, string? Method, string? Pattern, double Sparsity, double SparsityOfAllParameters,
    double MeanCosine, double MinCosine, IReadOnlyDictionary<string, double> Accuracy, IReadOnlyList<DemoShapeResult> Latency,
    long InitializerBytes, long? SessionWeightBytes, long FileBytes, string? Kernels);

/// <summary>What <c>sparrow demo</c> did, as demo-summary.json holds it and <c>--json</c> prints it.</summary>
internal sealed record DemoSummaryData(
    string Command, string MeasuredUtc, double Seconds, bool Quick, string OutputFolder, object Machine,
    IReadOnlyDictionary<string, string> Files, IReadOnlyList<object> Tasks, IReadOnlyList<DemoRow> Rows);

internal static class DemoSummary
{
    /// <summary>The short table the demo ends with.</summary>
    public static Table Table(DemoSummaryData summary)
    {
        var latency = summary.Rows[0].Latency;
        // One sequence length for all (the usual case): say it once in the title and name shapes by batch alone.
        var oneSequence = latency.Select(l => l.Sequence).Distinct().Count() == 1 ? latency[0].Sequence : null;
        var shapes = latency.Select(l => oneSequence is null ? l.Label : $"b{l.Batch}").ToArray();
        var tasks = summary.Rows[0].Accuracy.Keys.ToArray();
        var shapeHeader = string.Join("/", shapes);
        var table = new Table().Border(TableBorder.Simple)
            .Title($"sparrow demo: all-MiniLM-L6-v2, dense and pruned{(oneSequence is { } seq ? $"; latency at sequence length {seq}, batch {string.Join(" and ", latency.Select(l => l.Batch))}" : "")}")
            .AddColumn("variant")
            .AddColumn(new TableColumn("sparsity").RightAligned())
            .AddColumn(new TableColumn("fidelity").RightAligned());
        foreach (var t in tasks) table.AddColumn(new TableColumn(Markup.Escape($"{t} acc.")).RightAligned());
        foreach (var s in shapes) table.AddColumn(new TableColumn(Markup.Escape($"{s} ms")).RightAligned());
        table.AddColumn(new TableColumn(Markup.Escape($"vs dense ({shapeHeader})")).RightAligned())
            .AddColumn(new TableColumn(Markup.Escape($"vs ORT ({shapeHeader})")).RightAligned())
            .AddColumn(new TableColumn("weights MB stored/session").RightAligned())
            .AddColumn(new TableColumn("file MB").RightAligned());
        var energyMethod = latency.Select(l => l.EnergyMethod).FirstOrDefault(m => m is not null);
        if (energyMethod is not null) table.AddColumn(new TableColumn(Markup.Escape($"mJ/inference ({shapeHeader}, {energyMethod})")).RightAligned());
        foreach (var r in summary.Rows)
        {
            var cells = new List<string>
            {
                r.Title,
                r.Method is null ? "-" : Percent(r.Sparsity),
                r.MeanCosine.ToString("0.000", CultureInfo.InvariantCulture),
            };
            cells.AddRange(tasks.Select(t => r.Accuracy.TryGetValue(t, out var a) ? Percent(a) : "-"));
            cells.AddRange(r.Latency.Select(l => Ms(l.SparrowMs)));
            cells.Add(string.Join(" / ", r.Latency.Select(l => Speedup(l.SpeedupVsDense))));
            cells.Add(string.Join(" / ", r.Latency.Select(l => Speedup(l.SpeedupVsOrt))));
            cells.Add($"{MegaBytes(r.InitializerBytes)} / {(r.SessionWeightBytes is { } s ? MegaBytes(s) : "-")}");
            cells.Add(MegaBytes(r.FileBytes));
            if (energyMethod is not null) cells.Add(string.Join(" / ", r.Latency.Select(l => l.SparrowJoules is { } j ? (1000 * j).ToString("0.0", CultureInfo.InvariantCulture) : "-")));
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        table.Caption(Markup.Escape(
            "sparsity: zeros in the encoder's Linear weights; fidelity: mean cosine to the dense model's embeddings of held-out sentences; "
            + "acc.: accuracy of a classifier trained on each model's embeddings (shipped task samples, half held out); "
            + "ms: Sparrow's median latency; vs dense / vs ORT: speed-up over Sparrow on the dense model and over ONNX Runtime on the dense model (above 1x is faster); "
            + "weights: as stored (zeros included) / as Sparrow's session holds them; file: the .onnx written (pruned ones in the compact form)"
            + (energyMethod is null ? "." : "; mJ/inference: Sparrow's energy per input, read around each timed run ("
                + (energyMethod == "estimate" ? "estimated from the process's CPU time and the CPU's power per core, no energy counter here" : energyMethod) + ").")));
        return table;
    }

    private static string Percent(double value) => (100 * value).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string Speedup(double value) => double.IsFinite(value) ? value.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-";

    /// <summary>"CSR 36, Dense 1": how many weights run each kernel.</summary>
    public static string? Kernels(IReadOnlyDictionary<string, string>? choices) =>
        choices is null ? null : string.Join(", ", choices.Values.GroupBy(k => k).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
}
