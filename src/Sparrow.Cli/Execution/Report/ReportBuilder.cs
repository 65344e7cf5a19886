namespace Sparrow.Cli.Execution.Report;

/// <summary>
/// <c>sparrow report</c> as a plain call, for commands such as <c>sparrow demo</c> that make the results
/// themselves: reads the inputs, builds the report and writes the HTML page (and the Markdown with its images).
/// </summary>
internal static class ReportBuilder
{
    public const string DefaultTitle = "Sparrow report";

    /// <param name="inputs">JSON files of sparrow bench, eval and sensitivity (--json), .onnx models, or folders of them.</param>
    /// <param name="htmlPath">The HTML page to write.</param>
    /// <param name="markdownPath">The Markdown file to write too (its PNG images beside it); null for none.</param>
    /// <returns>What was written: the document, with the data it was built from.</returns>
    public static ReportResult Write(IReadOnlyList<string> inputs, string htmlPath, string? markdownPath, string title = DefaultTitle)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (string.IsNullOrWhiteSpace(htmlPath)) throw new UsageException("give the HTML file to write (-o report.html).");
        if (string.IsNullOrWhiteSpace(title)) title = DefaultTitle;
        var files = ReportInputs.Expand(inputs);
        CheckOutput(htmlPath, "-o", files);
        if (markdownPath is not null)
        {
            CheckOutput(markdownPath, "--markdown", files);
            if (SamePath(markdownPath, htmlPath)) throw new UsageException($"--markdown {markdownPath} is the HTML output too; give two files.");
        }

        var data = ReportInputs.Read(files);
        var document = ReportContent.Build(data, title, DateTime.UtcNow);
        var written = new List<string>();
        if (markdownPath is not null)
        {
            // The images' names are known only now; none of them may be an input either.
            foreach (var image in document.Images) CheckOutput(MarkdownReportWriter.ImagePath(markdownPath, image), "--markdown (image)", files);
            MarkdownReportWriter.Write(document, markdownPath);
            written.Add(Path.GetFullPath(markdownPath));
            written.AddRange(document.Images.Select(i => MarkdownReportWriter.ImagePath(markdownPath, i)));
        }
        HtmlReportWriter.Write(document, htmlPath);
        written.Insert(0, Path.GetFullPath(htmlPath));
        return new ReportResult(data, document, written);
    }

    /// <summary>An output must be a file name (not a folder) and never one of the inputs: Sparrow does not overwrite what it reads.</summary>
    private static void CheckOutput(string path, string option, IReadOnlyList<string> inputs)
    {
        if (Directory.Exists(path)) throw new UsageException($"{option} {path} is a folder; give a file name.");
        if (inputs.Any(i => SamePath(i, path))) throw new UsageException($"{option} {path} is one of the inputs; Sparrow does not overwrite its input. Give another file name.");
    }

    private static bool SamePath(string a, string b) => string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);
}

/// <param name="Written">Full paths of the files written: the HTML page first, then the Markdown file and its images.</param>
internal sealed record ReportResult(ReportData Data, ReportDocument Document, IReadOnlyList<string> Written);
