using Sparrow.Data.Text;

namespace Sparrow.Data.Training;

/// <summary>
/// Real English texts for recovering a pruned sentence encoder by distillation when the user gives none: 2,048
/// records of Debian's fortunes package from categories that the fortunes task of <c>sparrow eval</c> never reads
/// (and none that also appears in one of its categories), so recovery never trains on an evaluation item. None of
/// them is among the held-out sentences of <c>sparrow eval</c> either. Made by scripts/make-recovery-sentences.py.
/// </summary>
public static class RecoverySentences
{
    private const string Resource = "Sparrow.Data.Training.recovery-sentences.txt";

    /// <summary>The texts, in the file's (seeded, shuffled) order.</summary>
    public static IReadOnlyList<string> Sample { get; } = Read();

    private static string[] Read()
    {
        using var stream = typeof(RecoverySentences).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The resource {Resource} is missing from Sparrow.Data.");
        using var reader = new StreamReader(stream);
        return SentenceLines.Parse(reader.ReadToEnd().Split('\n'));
    }
}
