using System.Text;

namespace Sparrow.Cli.Execution.Report;

/// <summary>
/// The report as Markdown, the same blocks as the HTML page; each image is a PNG file beside the .md file
/// (<c>REPORT-NAME.png</c>), linked by its file name so the folder can move as a whole.
/// </summary>
internal static class MarkdownReportWriter
{
    /// <summary>Where the image of <paramref name="image"/> goes for a Markdown file at <paramref name="markdownPath"/>.</summary>
    public static string ImagePath(string markdownPath, ImageBlock image)
    {
        var full = Path.GetFullPath(markdownPath);
        return Path.Combine(Path.GetDirectoryName(full)!, $"{Path.GetFileNameWithoutExtension(full)}-{image.Name}.png");
    }

    public static string Render(ReportDocument document, string markdownPath)
    {
        var md = new StringBuilder();
        foreach (var block in document.Blocks)
        {
            switch (block)
            {
                case HeadingBlock h:
                    md.Append('#', h.Level).Append(' ').AppendLine(OneLine(h.Text));
                    break;
                case ParagraphBlock p:
                    md.AppendLine(OneLine(p.Text));
                    break;
                case ListBlock l:
                    foreach (var item in l.Items) md.Append("- ").AppendLine(OneLine(item));
                    break;
                case TableBlock t:
                    md.AppendLine(OneLine(t.Caption)).AppendLine();
                    md.Append('|').AppendJoin("", t.Headers.Select(h => $" {Cell(h)} |")).AppendLine();
                    md.Append('|').AppendJoin("", t.Headers.Select((_, c) => t.IsText(c) ? "---|" : "---:|")).AppendLine();
                    foreach (var row in t.Rows) md.Append('|').AppendJoin("", row.Select(cell => $" {Cell(cell)} |")).AppendLine();
                    break;
                case ImageBlock i:
                    var file = Path.GetFileName(ImagePath(markdownPath, i));
                    md.Append("![").Append(Cell(i.Name)).Append("](").Append(Uri.EscapeDataString(file)).AppendLine(")").AppendLine();
                    md.Append('*').Append(OneLine(i.Caption).Replace("*", "\\*", StringComparison.Ordinal)).AppendLine("*");
                    break;
                default:
                    throw new InvalidOperationException($"No Markdown for report block {block.GetType().Name}.");
            }
            md.AppendLine();
        }
        return md.ToString().TrimEnd() + "\n";
    }

    /// <summary>Writes the images, then the Markdown that links them, each atomically.</summary>
    public static void Write(ReportDocument document, string markdownPath)
    {
        foreach (var image in document.Images)
            Sparrow.Graph.AtomicFile.Write(ImagePath(markdownPath, image), s => s.Write(image.Png));
        Sparrow.Graph.AtomicFile.WriteAllText(markdownPath, Render(document, markdownPath));
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    /// <summary>A table cell: one line, pipes escaped.</summary>
    private static string Cell(string text) => OneLine(text).Replace("|", "\\|", StringComparison.Ordinal);
}
