namespace Sparrow.Data.Text;

/// <summary>The one format of Sparrow's sentence lists (calibration, held-out, users' files): a sentence per line, blank lines and lines starting with '#' skipped.</summary>
public static class SentenceLines
{
    /// <summary>The sentences among <paramref name="lines"/>: trimmed, blank lines and lines starting with '#' skipped.</summary>
    public static string[] Parse(IEnumerable<string> lines) =>
        lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

    /// <summary>The sentences of a text file; empty when it holds none (callers say what that means for them).</summary>
    public static string[] ReadFile(string path) => Parse(File.ReadLines(path));
}
