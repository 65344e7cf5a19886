using System.Globalization;
using Sparrow.Pruning.Sensitivity;

namespace Sparrow.Cli.Execution.Report;

/// <summary>The report's plots, drawn with ScottPlot (headless, through SkiaSharp) as PNG images.</summary>
internal static class ReportPlots
{
    private const int Width = 820;
    private const int Height = 480;

    private static readonly ScottPlot.Color SparrowColor = ScottPlot.Color.FromHex("#1f77b4");
    private static readonly ScottPlot.Color OrtColor = ScottPlot.Color.FromHex("#9a9a9a");
    private static readonly ScottPlot.Color FrontColor = ScottPlot.Color.FromHex("#d62728");

    /// <summary>Embedding fidelity against Sparrow's latency at one batch size and sequence length; ONNX Runtime on each model for comparison.</summary>
    public static ImageBlock? QualityVsLatency(ReportData data, int batch, int? sequence, string name)
    {
        var points = data.Variants
            .Select(v => (Variant: v, Row: v.Latency.FirstOrDefault(l => l.Batch == batch && l.Sequence == sequence)))
            .Where(p => p.Variant.MeanCosine is not null && p.Row is not null)
            .Select(p => (p.Variant.Name, Quality: p.Variant.MeanCosine!.Value, Sparrow: p.Row!.Sparrow.Median!.Value, Ort: p.Row.Ort?.Median))
            .ToArray();
        if (points.Length == 0) return null;
        var label = sequence is { } s ? $"batch {batch}, sequence {s}" : $"batch {batch}";
        var plot = NewPlot($"Quality against latency ({label})", "latency per run, ms (median; lower is better)", "mean cosine to the reference");
        var ort = points.Where(p => p.Ort is not null).ToArray();
        if (ort.Length > 0) AddMarkers(plot, ort.Select(p => p.Ort!.Value).ToArray(), ort.Select(p => p.Quality).ToArray(), OrtColor, "ONNX Runtime (same model)", ScottPlot.MarkerShape.OpenCircle);
        AddFront(plot, ParetoFront(points.Select(p => (p.Sparrow, p.Quality)).ToArray(), lowerXBetter: true));
        AddMarkers(plot, points.Select(p => p.Sparrow).ToArray(), points.Select(p => p.Quality).ToArray(), SparrowColor, "Sparrow", ScottPlot.MarkerShape.FilledCircle);
        foreach (var p in points) AddLabel(plot, p.Name, p.Sparrow, p.Quality);
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        PadAxes(plot, points.Select(p => p.Sparrow).Concat(ort.Select(p => p.Ort!.Value)), points.Select(p => p.Quality));
        return Image(plot, name, $"Quality against latency at {label}: each model's embedding fidelity against Sparrow's median latency (filled) and ONNX Runtime's on the same model (open); the line joins the Pareto front (no other model is both faster and closer to the reference).", Width, Height);
    }

    /// <summary>Embedding fidelity against the sparsity of the prunable weights.</summary>
    public static ImageBlock? QualityVsSparsity(ReportData data, string name)
    {
        var points = data.Variants
            .Where(v => v.MeanCosine is not null && v.Sparsity is not null)
            .Select(v => (v.Name, Quality: v.MeanCosine!.Value, Sparsity: 100 * v.Sparsity!.Sparsity))
            .ToArray();
        if (points.Length == 0) return null;
        var plot = NewPlot("Quality against sparsity", "sparsity of the prunable weights, % (higher is smaller)", "mean cosine to the reference");
        AddFront(plot, ParetoFront(points.Select(p => (p.Sparsity, p.Quality)).ToArray(), lowerXBetter: false));
        AddMarkers(plot, points.Select(p => p.Sparsity).ToArray(), points.Select(p => p.Quality).ToArray(), SparrowColor, "model", ScottPlot.MarkerShape.FilledCircle);
        foreach (var p in points) AddLabel(plot, p.Name, p.Sparsity, p.Quality);
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        PadAxes(plot, points.Select(p => p.Sparsity).Append(0), points.Select(p => p.Quality));
        return Image(plot, name, "Quality against sparsity: each model's embedding fidelity against the share of zeros in its prunable weights; the line joins the Pareto front (no other model is both sparser and closer to the reference).", Width, Height);
    }

    /// <summary>Achieved sparsity per pruned weight as horizontal bars, the record's target as a mark.</summary>
    public static ImageBlock? LayerSparsity(Variant variant, string name)
    {
        if (variant.Sparsity is not { Layers.Count: > 0 } sparsity) return null;
        var layers = sparsity.Layers;
        var rows = layers.Count;
        var plot = new ScottPlot.Plot();
        var bars = layers.Select((l, i) => new ScottPlot.Bar
        {
            Position = rows - 1 - i,
            Value = 100 * l.Achieved,
            FillColor = SparrowColor,
            LineWidth = 0,
            Size = 0.7,
        }).ToList();
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        barPlot.LegendText = "achieved";
        var targeted = layers.Select((l, i) => (l.Target, Y: (double)(rows - 1 - i))).Where(t => t.Target is not null).ToArray();
        if (targeted.Length > 0)
            AddMarkers(plot, targeted.Select(t => 100 * t.Target!.Value).ToArray(), targeted.Select(t => t.Y).ToArray(), FrontColor, "target", ScottPlot.MarkerShape.VerticalBar, size: 16, lineWidth: 3);
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows).Select(i => (double)(rows - 1 - i)).ToArray(), layers.Select(l => l.Label).ToArray());
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.SetLimits(0, 100, -0.6, rows - 0.4);
        plot.Axes.Bottom.Label.Text = "zeros in the weight, %";
        var how = sparsity.Method is { } m ? $" ({m}, {sparsity.Pattern})" : "";
        plot.Title($"{variant.Name}: sparsity per layer{how}");
        if (targeted.Length > 0) plot.ShowLegend(ScottPlot.Edge.Bottom);
        var height = Math.Max(280, 140 + 18 * rows);
        return Image(plot, name, $"Sparsity per layer of {variant.Name}{how}: the share of zeros in each pruned weight{(targeted.Length > 0 ? ", with the target the pruning asked for" : "")}; {ReportInputs.Percent(sparsity.Sparsity)} over all of them.", Width, height);
    }

    /// <summary>Energy per inference of each model at each batch size and sequence length measured (bench's figures).</summary>
    public static ImageBlock? EnergyPerInference(ReportData data, string name)
    {
        var configurations = data.Configurations;
        var variants = data.Variants.Where(v => v.Latency.Any(l => l.Energy?.JoulesPerInference is not null)).ToArray();
        if (variants.Length == 0) return null;
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var groupWidth = 0.8;
        var barWidth = groupWidth / configurations.Count;
        for (var c = 0; c < configurations.Count; c++)
        {
            var (batch, sequence) = configurations[c];
            var bars = new List<ScottPlot.Bar>();
            for (var v = 0; v < variants.Length; v++)
            {
                var row = variants[v].Latency.FirstOrDefault(l => l.Batch == batch && l.Sequence == sequence);
                if (row?.Energy?.JoulesPerInference is not { } joules) continue;
                bars.Add(new ScottPlot.Bar
                {
                    Position = v - groupWidth / 2 + barWidth * (c + 0.5),
                    Value = 1000 * joules,
                    Size = barWidth * 0.9,
                    FillColor = palette.GetColor(c),
                    LineWidth = 0,
                });
            }
            if (bars.Count == 0) continue;
            var series = plot.Add.Bars(bars);
            series.LegendText = sequence is { } s ? $"batch {batch}, seq {s}" : $"batch {batch}";
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, variants.Length).Select(i => (double)i).ToArray(), variants.Select(v => v.Name).ToArray());
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Margins(bottom: 0);
        plot.Axes.Left.Label.Text = "energy per inference, mJ (lower is better)";
        var methods = variants.SelectMany(v => v.Latency).Select(l => l.Energy?.Method).Where(m => !string.IsNullOrEmpty(m)).Distinct().ToArray();
        plot.Title("Energy per inference" + (methods.Length > 0 ? $" ({string.Join(", ", methods)})" : ""));
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        return Image(plot, name, "Energy per inference of Sparrow on each model, per batch size and sequence length (one inference = one item of the batch)"
            + (methods.Length > 0 ? $"; method: {string.Join(", ", methods)}." : "."), Width, Height);
    }

    /// <summary>
    /// Embedding fidelity against Sparrow's energy per inference (issue 6's Pareto view), at the first batch size and sequence
    /// length with energy; null unless at least one model has both.
    /// </summary>
    public static ImageBlock? QualityVsEnergy(ReportData data, string name)
    {
        foreach (var (batch, sequence) in data.Configurations)
        {
            var points = data.Variants
                .Select(v => (Variant: v, Joules: v.Latency.FirstOrDefault(l => l.Batch == batch && l.Sequence == sequence)?.Energy?.JoulesPerInference))
                .Where(p => p.Variant.MeanCosine is not null && p.Joules is { } j && double.IsFinite(j))
                .Select(p => new EnergyPlots.Point(p.Variant.Name, p.Variant.Sparsity?.Sparsity ?? 0, p.Variant.MeanCosine, p.Joules!.Value))
                .ToArray();
            if (points.Length == 0) continue;
            var label = sequence is { } s ? $"batch {batch}, sequence {s}" : $"batch {batch}";
            var methods = data.Variants.SelectMany(v => v.Latency).Select(l => l.Energy?.Method).Where(m => !string.IsNullOrEmpty(m)).Distinct().ToArray();
            var plot = EnergyPlots.ParetoPlot(points, $"Quality against energy per inference ({label})", "mean cosine to the reference");
            return Image(plot, name, $"Quality against energy at {label}: each model's embedding fidelity against Sparrow's energy per inference"
                + (methods.Length > 0 ? $" ({string.Join(", ", methods)})" : "") + "; the line joins the Pareto front (no other model uses less energy and is closer to the reference).", Width, Height);
        }
        return null;
    }

    /// <summary>The sensitivity heat map of <c>sparrow sensitivity</c>, drawn by the same code that command uses.</summary>
    public static ImageBlock SensitivityHeatmap(SensitivityFile file, string name)
    {
        var sparsities = file.Sparsities!.ToArray();
        var curves = file.Layers!.Select((l, i) => new SensitivityCurve(
            l.Weight ?? $"weight {i}", l.Label ?? l.Weight ?? $"weight {i}", l.OpType ?? "", l.Shape ?? [], l.Parameters ?? 0,
            sparsities, Pad(l.Losses, sparsities.Length))).ToArray();
        var result = new SensitivityResult(sparsities, curves);
        var model = Path.GetFileName(file.Model ?? "model");
        var title = $"{model}: {file.Method ?? "pruning"}, quality drop per layer";
        var temporary = Path.Combine(Path.GetTempPath(), $"sparrow-report-{Environment.ProcessId}-{Guid.NewGuid():N}.png");
        try
        {
            Execution.SensitivityHeatmap.Save(temporary, result, title);
            var png = File.ReadAllBytes(temporary);
            var (width, height) = PngSize(png);
            return new ImageBlock(name, $"Sensitivity of {model} ({file.Method ?? "?"}, {file.Quality ?? "?"} quality): the quality drop (1 − mean cosine) with each weight alone pruned to each sparsity, the rest dense.", png, width, height);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static IReadOnlyList<double> Pad(List<double>? losses, int count)
    {
        var values = new double[count];
        for (var i = 0; i < count; i++) values[i] = losses is not null && i < losses.Count ? losses[i] : double.NaN;
        return values;
    }

    /// <summary>
    /// The points no other point beats on both axes: y higher is better; x lower is better when
    /// <paramref name="lowerXBetter"/>, else higher. Sorted from the best x.
    /// </summary>
    internal static (double X, double Y)[] ParetoFront(IReadOnlyList<(double X, double Y)> points, bool lowerXBetter)
    {
        var ordered = points.OrderBy(p => lowerXBetter ? p.X : -p.X).ThenByDescending(p => p.Y).ToArray();
        var front = new List<(double X, double Y)>();
        var best = double.NegativeInfinity;
        foreach (var p in ordered)
            if (p.Y > best)
            {
                front.Add(p);
                best = p.Y;
            }
        return front.ToArray();
    }

    private static ScottPlot.Plot NewPlot(string title, string x, string y)
    {
        var plot = new ScottPlot.Plot();
        plot.Title(title);
        plot.Axes.Bottom.Label.Text = x;
        plot.Axes.Left.Label.Text = y;
        return plot;
    }

    private static void AddMarkers(ScottPlot.Plot plot, double[] xs, double[] ys, ScottPlot.Color color, string legend, ScottPlot.MarkerShape shape, float size = 11, float lineWidth = 1)
    {
        var markers = plot.Add.ScatterPoints(xs, ys);
        markers.Color = color;
        markers.MarkerShape = shape;
        markers.MarkerSize = size;
        markers.MarkerLineWidth = lineWidth;
        markers.LegendText = legend;
    }

    private static void AddFront(ScottPlot.Plot plot, (double X, double Y)[] front)
    {
        if (front.Length < 2) return;
        var line = plot.Add.ScatterLine(front.Select(p => p.X).ToArray(), front.Select(p => p.Y).ToArray());
        line.Color = FrontColor.WithAlpha(0.6);
        line.LineWidth = 2;
        line.LinePattern = ScottPlot.LinePattern.Dashed;
        line.LegendText = "Pareto front";
    }

    private static void AddLabel(ScottPlot.Plot plot, string text, double x, double y)
    {
        var label = plot.Add.Text(text, x, y);
        label.LabelFontSize = 12;
        label.LabelFontColor = ScottPlot.Colors.Black;
        label.LabelAlignment = ScottPlot.Alignment.LowerLeft;
        label.LabelOffsetX = 7;
        label.LabelOffsetY = -5;
    }

    /// <summary>Room around the points for their labels; a single value still gets a visible range.</summary>
    private static void PadAxes(ScottPlot.Plot plot, IEnumerable<double> xs, IEnumerable<double> ys)
    {
        var (x0, x1) = Range(xs.ToArray(), 0.05);
        var (y0, y1) = Range(ys.ToArray(), 0.01);
        var dx = x1 - x0;
        var dy = y1 - y0;
        plot.Axes.SetLimits(x0 - 0.08 * dx, x1 + 0.3 * dx, y0 - 0.12 * dy, y1 + 0.12 * dy);
    }

    private static (double Low, double High) Range(double[] values, double minimumSpan)
    {
        var low = values.Min();
        var high = values.Max();
        if (high - low < minimumSpan)
        {
            var middle = (low + high) / 2;
            low = middle - minimumSpan / 2;
            high = middle + minimumSpan / 2;
        }
        return (low, high);
    }

    private static ImageBlock Image(ScottPlot.Plot plot, string name, string caption, int width, int height)
    {
        var png = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        return new ImageBlock(name, caption, png, width, height);
    }

    /// <summary>Width and height from a PNG's header.</summary>
    internal static (int Width, int Height) PngSize(byte[] png)
    {
        if (png.Length < 24 || png[0] != 0x89 || png[1] != (byte)'P' || png[2] != (byte)'N' || png[3] != (byte)'G')
            throw new InvalidDataException("not a PNG image");
        return (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    internal static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
