using System.Globalization;
using Sparrow.Graph;

namespace Sparrow.Cli.Execution;

/// <summary>
/// Energy per inference against sparsity and against quality (the Pareto view), drawn with ScottPlot headless.
/// Takes plain points so that any command (bench, report) can draw it.
/// </summary>
internal static class EnergyPlots
{
    /// <summary>One model variant.</summary>
    /// <param name="Name">Its label.</param>
    /// <param name="Sparsity">Fraction of zero weights, 0 to 1.</param>
    /// <param name="Quality">A quality score where higher is better (e.g. cosine to the dense model or task accuracy); null when unknown.</param>
    /// <param name="JoulesPerInference">Energy per inference.</param>
    public sealed record Point(string Name, double Sparsity, double? Quality, double JoulesPerInference);

    /// <summary>Draws energy per inference against weight sparsity, one labelled point per variant. PNG, or SVG for a .svg path.</summary>
    public static void SaveBySparsity(string path, IReadOnlyList<Point> points, string title)
    {
        var usable = points.Where(p => double.IsFinite(p.JoulesPerInference)).OrderBy(p => p.Sparsity).ToArray();
        if (usable.Length == 0) throw new ArgumentException("No point has an energy figure to plot.", nameof(points));
        var plot = new ScottPlot.Plot();
        var line = plot.Add.Scatter(usable.Select(p => p.Sparsity * 100).ToArray(), usable.Select(p => p.JoulesPerInference * 1e3).ToArray());
        line.MarkerSize = 9;
        foreach (var p in usable) Label(plot, p.Name, p.Sparsity * 100, p.JoulesPerInference * 1e3);
        plot.Axes.Bottom.Label.Text = "weight sparsity (%)";
        plot.Axes.Left.Label.Text = "energy per inference (mJ)";
        plot.Title(title);
        plot.Axes.SetLimitsX(-5, 105);
        plot.Axes.SetLimitsY(0, usable.Max(p => p.JoulesPerInference) * 1e3 * 1.2);
        Save(plot, path);
    }

    /// <summary>
    /// Draws quality against energy per inference (the Pareto view): every variant with a quality, the front of those
    /// no other beats on both (less energy, higher quality) joined by a line. PNG, or SVG for a .svg path.
    /// </summary>
    public static void SavePareto(string path, IReadOnlyList<Point> points, string title, string qualityLabel = "quality (higher is better)") =>
        Save(ParetoPlot(points, title, qualityLabel), path);

    /// <summary>The plot <see cref="SavePareto"/> saves, for callers that embed it (the report).</summary>
    public static ScottPlot.Plot ParetoPlot(IReadOnlyList<Point> points, string title, string qualityLabel = "quality (higher is better)")
    {
        var usable = points.Where(p => double.IsFinite(p.JoulesPerInference) && p.Quality is { } q && double.IsFinite(q)).ToArray();
        if (usable.Length == 0) throw new ArgumentException("No point has both an energy and a quality figure to plot.", nameof(points));
        var plot = new ScottPlot.Plot();
        var all = plot.Add.ScatterPoints(usable.Select(p => p.JoulesPerInference * 1e3).ToArray(), usable.Select(p => p.Quality!.Value).ToArray());
        all.MarkerSize = 9;
        all.LegendText = "variants";
        var front = ParetoFront(usable);
        if (front.Count > 1)
        {
            var f = plot.Add.Scatter(front.Select(p => p.JoulesPerInference * 1e3).ToArray(), front.Select(p => p.Quality!.Value).ToArray());
            f.LegendText = "Pareto front";
            f.LineWidth = 2;
            f.MarkerSize = 0;
        }
        foreach (var p in usable) Label(plot, p.Name, p.JoulesPerInference * 1e3, p.Quality!.Value);
        // Autoscaling sees the points, not their names: leave room so a name centred over an edge point is not cut.
        plot.Axes.Margins(horizontal: 0.3, vertical: 0.15);
        plot.Axes.Bottom.Label.Text = "energy per inference (mJ)";
        plot.Axes.Left.Label.Text = qualityLabel;
        plot.Title(title);
        plot.ShowLegend();
        return plot;
    }

    private static void Save(ScottPlot.Plot plot, string path)
    {
        const int width = 800, height = 520;
        // Through Sparrow.Graph's AtomicFile: an interrupted write never leaves half a plot under the final name.
        if (Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase)) AtomicFile.WriteAllText(path, plot.GetSvgXml(width, height));
        else
        {
            var png = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
            AtomicFile.Write(path, stream => stream.Write(png));
        }
    }

    /// <summary>The variants no other beats on both energy (lower) and quality (higher), by energy.</summary>
    public static List<Point> ParetoFront(IEnumerable<Point> points)
    {
        var front = new List<Point>();
        var best = double.NegativeInfinity;
        foreach (var p in points.OrderBy(p => p.JoulesPerInference).ThenByDescending(p => p.Quality))
            if (p.Quality is { } q && q > best)
            {
                front.Add(p);
                best = q;
            }
        return front;
    }

    private static void Label(ScottPlot.Plot plot, string name, double x, double y)
    {
        var text = plot.Add.Text(name, x, y);
        text.LabelFontSize = 11;
        text.OffsetY = -8;
        text.Alignment = ScottPlot.Alignment.LowerCenter;
    }

    /// <summary>"12.3 %" for a sparsity fraction.</summary>
    public static string Percent(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";
}
