using Sparrow.Data.Models;
using Sparrow.Data.Text;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Calibration;

/// <summary>
/// Calibration inputs for sentence encoders such as the embedded MiniLM: real sentences tokenized into
/// batches of input_ids, attention_mask and token_type_ids (int64 [batch, seq], padded to the batch's longest).
/// </summary>
public static class CalibrationSentences
{
    private const string SampleResource = "Sparrow.Pruning.Calibration.calibration-sentences.txt";

    /// <summary>
    /// The built-in sample: 64 plain English sentences written for Sparrow (everyday topics), the default
    /// calibration set when no data is given. Held-out evaluation must use other sentences.
    /// </summary>
    public static IReadOnlyList<string> Sample { get; } = ReadSample();

    /// <summary>Reads sentences from a text file: one per line, blank lines and lines starting with '#' skipped.</summary>
    public static IReadOnlyList<string> ReadFile(string path)
    {
        var sentences = SentenceLines.ReadFile(path);
        if (sentences.Length == 0) throw new InvalidDataException($"'{path}' holds no sentences (one per line).");
        return sentences;
    }

    /// <summary>
    /// Tokenizes <paramref name="sentences"/> lazily, <paramref name="batchSize"/> at a time, as model inputs
    /// (limited to <paramref name="inputNames"/> when given, e.g. a model without token_type_ids). Each batch's
    /// tensors are disposed when the next one is asked for, so a consumer streams them and keeps none.
    /// </summary>
    public static IEnumerable<IReadOnlyDictionary<string, Tensor>> Batches(
        IEnumerable<string> sentences, int batchSize = 16, SentenceTokenizer? tokenizer = null,
        int maxLength = DefaultModel.MaxSequenceLength, IEnumerable<string>? inputNames = null)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        return Iterate(sentences, batchSize, tokenizer ?? SentenceTokenizer.Default, maxLength, inputNames?.ToArray());
    }

    private static IEnumerable<IReadOnlyDictionary<string, Tensor>> Iterate(
        IEnumerable<string> sentences, int batchSize, SentenceTokenizer tokenizer, int maxLength, string[]? inputNames)
    {
        foreach (var chunk in sentences.Chunk(batchSize))
        {
            using var batch = tokenizer.EncodeBatch(chunk, maxLength);
            yield return batch.ToInputs(inputNames);
        }
    }

    private static string[] ReadSample()
    {
        using var stream = typeof(CalibrationSentences).Assembly.GetManifestResourceStream(SampleResource)
            ?? throw new InvalidOperationException($"The resource {SampleResource} is missing from Sparrow.Pruning.");
        using var reader = new StreamReader(stream);
        return SentenceLines.Parse(reader.ReadToEnd().Split('\n'));
    }
}
