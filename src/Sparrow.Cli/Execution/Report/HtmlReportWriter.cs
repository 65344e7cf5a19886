using System.Text;

namespace Sparrow.Cli.Execution.Report;

/// <summary>
/// The report as one self-contained HTML page: inline CSS, images as <c>data:image/png;base64</c> URIs, no scripts
/// and nothing fetched from elsewhere, so that it opens offline and can be mailed or attached as one file.
/// </summary>
internal static class HtmlReportWriter
{
    private const string Style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.45; }
        h1 { font-size: 1.7rem; margin-bottom: 0.3rem; }
        h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
        table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.88rem; }
        caption { caption-side: top; text-align: left; color: #555; padding-bottom: 0.3rem; }
        th, td { border: 1px solid #d0d0d0; padding: 0.25rem 0.55rem; }
        th { background: #f3f5f7; text-align: left; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        tbody tr:nth-child(even) { background: #fafbfc; }
        figure { margin: 1.2rem 0; }
        figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
        figcaption { color: #555; font-size: 0.88rem; margin-top: 0.3rem; }
        code { background: #f3f3f3; padding: 0 0.2rem; border-radius: 3px; font-size: 0.9em; }
        .scroll { overflow-x: auto; }
        """;

    public static string Render(ReportDocument document)
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\">");
        html.AppendLine("<head>");
        html.AppendLine("<meta charset=\"utf-8\">");
        html.AppendLine("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.AppendLine("<meta name=\"generator\" content=\"sparrow report\">");
        html.Append("<title>").Append(Encode(document.Title)).AppendLine("</title>");
        html.Append("<style>\n").Append(Style).AppendLine("</style>");
        html.AppendLine("</head>");
        html.AppendLine("<body>");
        foreach (var block in document.Blocks) Append(html, block);
        html.AppendLine("</body>");
        html.AppendLine("</html>");
        return html.ToString();
    }

    public static void Write(ReportDocument document, string path) => Sparrow.Graph.AtomicFile.WriteAllText(path, Render(document));

    private static void Append(StringBuilder html, ReportBlock block)
    {
        switch (block)
        {
            case HeadingBlock h:
                html.Append($"<h{h.Level}>").Append(Encode(h.Text)).AppendLine($"</h{h.Level}>");
                break;
            case ParagraphBlock p:
                html.Append("<p>").Append(Inline(p.Text)).AppendLine("</p>");
                break;
            case ListBlock l:
                html.AppendLine("<ul>");
                foreach (var item in l.Items) html.Append("<li>").Append(Inline(item)).AppendLine("</li>");
                html.AppendLine("</ul>");
                break;
            case TableBlock t:
                AppendTable(html, t);
                break;
            case ImageBlock i:
                html.AppendLine("<figure>");
                html.Append("<img src=\"data:image/png;base64,").Append(Convert.ToBase64String(i.Png))
                    .Append("\" width=\"").Append(i.Width).Append("\" height=\"").Append(i.Height)
                    .Append("\" alt=\"").Append(Encode(i.Caption)).AppendLine("\">");
                html.Append("<figcaption>").Append(Inline(i.Caption)).AppendLine("</figcaption>");
                html.AppendLine("</figure>");
                break;
            default:
                throw new InvalidOperationException($"No HTML for report block {block.GetType().Name}.");
        }
    }

    private static void AppendTable(StringBuilder html, TableBlock table)
    {
        html.AppendLine("<div class=\"scroll\"><table>");
        html.Append("<caption>").Append(Inline(table.Caption)).AppendLine("</caption>");
        html.Append("<thead><tr>");
        for (var c = 0; c < table.Headers.Count; c++)
            html.Append(table.IsText(c) ? "<th>" : "<th class=\"num\">").Append(Encode(table.Headers[c])).Append("</th>");
        html.AppendLine("</tr></thead>");
        html.AppendLine("<tbody>");
        foreach (var row in table.Rows)
        {
            html.Append("<tr>");
            for (var c = 0; c < row.Count; c++)
                html.Append(table.IsText(c) ? "<td>" : "<td class=\"num\">").Append(Encode(row[c])).Append("</td>");
            html.AppendLine("</tr>");
        }
        html.AppendLine("</tbody>");
        html.AppendLine("</table></div>");
    }

    /// <summary>Text with <c>`code`</c> spans as &lt;code&gt;, everything encoded.</summary>
    private static string Inline(string text)
    {
        var parts = text.Split('`');
        var result = new StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            // An odd count of backticks leaves the last part outside code.
            var isCode = i % 2 == 1 && i < parts.Length - (parts.Length % 2 == 0 ? 1 : 0);
            result.Append(isCode ? "<code>" + Encode(parts[i]) + "</code>" : Encode(parts[i]));
        }
        return result.ToString();
    }

    /// <summary>Only what HTML needs escaped: the page is UTF-8, so ±, − and names stay readable in the source.</summary>
    private static string Encode(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);
}
