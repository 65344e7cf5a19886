using System.Globalization;
using Sparrow.Graph;
using Sparrow.Pruning.Sensitivity;

namespace Sparrow.Cli.Execution;

/// <summary>The sensitivity table as a heat map (rows = layers, columns = sparsities, colour = quality drop), drawn with ScottPlot.</summary>
internal static class SensitivityHeatmap
{
    public static void Save(string path, SensitivityResult result, string title)
    {
        var rows = result.Curves.Count;
        var columns = result.Sparsities.Count;
        var values = new double[rows, columns];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++) values[r, c] = result.Curves[r].Losses[c];

        var plot = new ScottPlot.Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        var bar = plot.Add.ColorBar(heatmap);
        bar.Label = "quality drop (1 − cosine)";
        // Cell (r, c) is centred on x = c and, row 0 drawn at the top, on y = rows − 1 − r.
        var highest = values.Cast<double>().DefaultIfEmpty(0).Max();
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < columns; c++)
            {
                var text = plot.Add.Text(values[r, c].ToString("0.000", CultureInfo.InvariantCulture), c, rows - 1 - r);
                text.Alignment = ScottPlot.Alignment.MiddleCenter;
                text.LabelFontSize = 10;
                text.LabelFontColor = values[r, c] > highest * 0.6 ? ScottPlot.Colors.Black : ScottPlot.Colors.White;
            }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns).Select(c => (double)c).ToArray(),
            result.Sparsities.Select(s => (s * 100).ToString("0", CultureInfo.InvariantCulture) + " %").ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows).Select(r => (double)(rows - 1 - r)).ToArray(),
            result.Curves.Select(c => c.Label).ToArray());
        plot.Axes.Bottom.Label.Text = "sparsity of the one pruned weight";
        plot.Title(title);
        plot.Axes.Margins(0, 0);

        var width = 900;
        var height = Math.Max(300, 120 + 22 * rows);
        // Through AtomicFile (which also makes the folder): an interrupted write never leaves half a plot under the final name.
        if (Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase)) AtomicFile.WriteAllText(path, plot.GetSvgXml(width, height));
        else
        {
            var png = plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
            AtomicFile.Write(path, stream => stream.Write(png));
        }
    }
}
