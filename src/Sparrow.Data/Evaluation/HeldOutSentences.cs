using Sparrow.Data.Text;

namespace Sparrow.Data.Evaluation;

/// <summary>
/// Sentences for judging a pruned sentence encoder against its dense original, kept apart from any calibration
/// data (judging on the sentences a method calibrated on would flatter it).
/// </summary>
public static class HeldOutSentences
{
    private const string Resource = "Sparrow.Data.Evaluation.held-out-sentences.txt";

    /// <summary>The built-in set: 64 plain English sentences written for Sparrow, on everyday topics.</summary>
    public static IReadOnlyList<string> Sample { get; } = Read();

    private static string[] Read()
    {
        using var stream = typeof(HeldOutSentences).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"The resource {Resource} is missing from Sparrow.Data.");
        using var reader = new StreamReader(stream);
        return SentenceLines.Parse(reader.ReadToEnd().Split('\n'));
    }
}
