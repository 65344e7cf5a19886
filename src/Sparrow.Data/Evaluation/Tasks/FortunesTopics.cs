using System.Text;
using System.Text.RegularExpressions;

namespace Sparrow.Data.Evaluation.Tasks;

/// <summary>
/// Topic classification of the Debian <c>fortunes</c> collection: each file of the folder is a category
/// (people, computers, politics, ...) and holds records separated by lines that are only "%".
/// </summary>
public static partial class FortunesTopics
{
    /// <summary>The task's name, as <c>sparrow eval --task</c> takes it.</summary>
    public const string Name = "fortunes";

    /// <summary>The largest categories are used, so that every class has enough records to learn and to test.</summary>
    public const int DefaultCategories = 12;

    /// <summary>
    /// Reads every category file of <paramref name="folder"/> (index files *.dat, the *.u8 links and sub-folders
    /// such as off/ are skipped) and keeps the <paramref name="categories"/> categories with the most distinct
    /// records (ties by name). Texts are trimmed and their runs of white space made single spaces.
    /// </summary>
    public static LabelledDataset Load(string folder, int categories = DefaultCategories)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(categories, 2);
        if (!Directory.Exists(folder)) throw DatasetNotFoundException.Missing(Name, folder, "does not exist");
        var files = Directory.EnumerateFiles(folder)
            .Where(IsCategoryFile)
            .Order(StringComparer.Ordinal)
            .ToArray();
        var records = files
            .Select(f => (Category: Path.GetFileName(f), Records: ParseRecords(File.ReadAllText(f, Encoding.UTF8)).Distinct(StringComparer.Ordinal).ToArray()))
            .Where(c => c.Records.Length > 0)
            .ToArray();
        if (records.Length < 2)
            throw DatasetNotFoundException.Missing(Name, folder, $"holds {records.Length} category file(s) with records separated by '%' lines; at least two are needed");
        var chosen = records
            .OrderByDescending(c => c.Records.Length)
            .ThenBy(c => c.Category, StringComparer.Ordinal)
            .Take(categories)
            .OrderBy(c => c.Category, StringComparer.Ordinal)
            .ToArray();
        var items = chosen.SelectMany((c, label) => c.Records.Select(r => new LabelledText(r, label)));
        return new LabelledDataset(Name, chosen.Select(c => c.Category).ToArray(), items);
    }

    /// <summary>The records of one fortune file: split at lines that are only "%", cleaned, empty ones dropped.</summary>
    public static IReadOnlyList<string> ParseRecords(string text)
    {
        var records = new List<string>();
        var current = new StringBuilder();
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Trim() == "%")
            {
                Flush();
                continue;
            }
            current.Append(line).Append('\n');
        }
        Flush();
        return records;

        void Flush()
        {
            var record = Clean(current.ToString());
            if (record.Length > 0) records.Add(record);
            current.Clear();
        }
    }

    internal static string Clean(string text) => WhiteSpace().Replace(text, " ").Trim();

    private static bool IsCategoryFile(string path)
    {
        var name = Path.GetFileName(path);
        if (name.StartsWith('.') || name.EndsWith(".dat", StringComparison.Ordinal) || name.EndsWith(".u8", StringComparison.Ordinal)) return false;
        // Links (the .u8 names point at their plain file) would count a category twice.
        return new FileInfo(path).LinkTarget is null;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}
