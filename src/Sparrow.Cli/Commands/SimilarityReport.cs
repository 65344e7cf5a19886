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
        var (best, bi, bj) = MostSimilar(texts.Count, similarity);
        console.MarkupLine($"Most similar: #{bi + 1} and #{bj + 1} ({best.ToString("0.000", CultureInfo.InvariantCulture)}).");
    }

    /// <summary>Every pair's cosine similarity and the most similar pair (numbered from 1), for --json.</summary>
    public static (double[][] Similarity, object? MostSimilar) Json(IReadOnlyList<string> texts, IReadOnlyList<float[]> embeddings)
    {
        var similarity = EmbeddingMath.SimilarityMatrix(embeddings);
        var matrix = Enumerable.Range(0, texts.Count).Select(i => Enumerable.Range(0, texts.Count).Select(j => (double)similarity[i, j]).ToArray()).ToArray();
        object? mostSimilar = null;
        if (texts.Count >= 2)
        {
            var (best, bi, bj) = MostSimilar(texts.Count, similarity);
            mostSimilar = new { first = bi + 1, second = bj + 1, cosine = (double)best };
        }
        return (matrix, mostSimilar);
    }

    private static (float Best, int First, int Second) MostSimilar(int count, float[,] similarity)
    {
        var (best, bi, bj) = (float.NegativeInfinity, 0, 1);
        for (var i = 0; i < count; i++)
            for (var j = i + 1; j < count; j++)
                if (similarity[i, j] > best) (best, bi, bj) = (similarity[i, j], i, j);
        return (best, bi, bj);
    }

    private static string Shorten(string text, int length)
    {
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= length ? line : line[..(length - 1)] + "…";
    }
}
