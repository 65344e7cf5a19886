namespace Sparrow.Cli.Execution.Report;

/// <summary>
/// The report as a list of blocks, built once and written by both <see cref="HtmlReportWriter"/> and
/// <see cref="MarkdownReportWriter"/>, so that the two say the same.
/// </summary>
internal sealed record ReportDocument(string Title, IReadOnlyList<ReportBlock> Blocks)
{
    public IEnumerable<ImageBlock> Images => Blocks.OfType<ImageBlock>();

    public IEnumerable<TableBlock> Tables => Blocks.OfType<TableBlock>();
}

internal abstract record ReportBlock;

internal sealed record HeadingBlock(int Level, string Text) : ReportBlock;

/// <summary>Plain text; <c>`...`</c> spans are code.</summary>
internal sealed record ParagraphBlock(string Text) : ReportBlock;

internal sealed record ListBlock(IReadOnlyList<string> Items) : ReportBlock;

/// <param name="TextColumns">Indexes of the columns that hold text (left-aligned); the others hold numbers (right-aligned). Default: the first.</param>
internal sealed record TableBlock(string Caption, IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows, IReadOnlyList<int>? TextColumns = null) : ReportBlock
{
    public bool IsText(int column) => (TextColumns ?? [0]).Contains(column);
}

/// <param name="Name">A file-name-safe name, unique in the document (the Markdown writer saves the PNG under it).</param>
internal sealed record ImageBlock(string Name, string Caption, byte[] Png, int Width, int Height) : ReportBlock;
