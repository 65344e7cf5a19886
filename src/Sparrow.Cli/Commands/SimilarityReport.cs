using System.Globalization;
using Sparrow.Data.Embeddings;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>Prints texts and the cosine similarity of every pair of their embeddings.</summary>
internal static class SimilarityReport
{
    public static void Write(IAnsiConsole console, IReadOnlyList<string> texts, IReadOnlyList<float[]> embeddings)
    {
        var legend = new Table().Border(TableBorder.Simple).AddColumn("#").AddColumn("text");
        for (var i = 0; i < texts.Count; i++) legend.AddRow((i + 1).ToString(CultureInfo.InvariantCulture), Markup.Escape(Shorten(texts[i], 70)));
        console.Write(legend);

        var similarity = EmbeddingMath.SimilarityMatrix(embeddings);
        var table = new Table().Border(TableBorder.Simple).Title("cosine similarity").AddColumn("");
        for (var j = 0; j < texts.Count; j++) table.AddColumn(new TableColumn($"#{j + 1}").RightAligned());
        for (var i = 0; i < texts.Count; i++)
        {
            var row = new List<string> { $"#{i + 1}" };
            for (var j = 0; j < texts.Count; j++)
                row.Add(i == j ? "[grey]1.000[/]" : similarity[i, j].ToString("0.000", CultureInfo.InvariantCulture));
            table.AddRow(row.ToArray());
        }
        console.Write(table);

        if (texts.Count < 2) return;
        var (best, bi, bj) = (float.NegativeInfinity, 0, 1);
        for (var i = 0; i < texts.Count; i++)
            for (var j = i + 1; j < texts.Count; j++)
                if (similarity[i, j] > best) (best, bi, bj) = (similarity[i, j], i, j);
        console.MarkupLine($"Most similar: #{bi + 1} and #{bj + 1} ({best.ToString("0.000", CultureInfo.InvariantCulture)}).");
    }

    private static string Shorten(string text, int length)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= length ? line : line[..(length - 1)] + "…";
    }
}
