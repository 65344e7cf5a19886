using Microsoft.ML.Tokenizers;
using Sparrow.Data.Models;
using Sparrow.Tensors;

namespace Sparrow.Data.Text;

/// <summary>
/// BERT WordPiece tokenisation for sentence encoders (Microsoft.ML.Tokenizers' BertTokenizer over a vocab
/// file): lower-cases, splits punctuation, wraps each text in [CLS] ... [SEP], truncates to a maximum
/// length and pads batches.
/// </summary>
public sealed partial class SentenceTokenizer
{
    private static readonly Lazy<SentenceTokenizer> DefaultTokenizer = new(() =>
    {
        using var vocab = DefaultModel.OpenVocab();
        return FromVocab(vocab);
    });

    private readonly BertTokenizer _bert;
    private readonly string[] _tokens;
    private readonly bool _lowerCase;

    private SentenceTokenizer(BertTokenizer bert, string[] tokens, bool lowerCase)
    {
        _bert = bert;
        _tokens = tokens;
        _lowerCase = lowerCase;
    }

    /// <summary>The tokenizer of the embedded default model (all-MiniLM-L6-v2, uncased).</summary>
    public static SentenceTokenizer Default => DefaultTokenizer.Value;

    /// <param name="vocab">A WordPiece vocab: one token a line, the line number is its id.</param>
    public static SentenceTokenizer FromVocab(Stream vocab, bool lowerCase = true)
    {
        using var copy = new MemoryStream();
        vocab.CopyTo(copy);
        // Kept to turn ids back into tokens: the vocab's line number is the id.
        var text = System.Text.Encoding.UTF8.GetString(copy.GetBuffer(), 0, (int)copy.Length);
        var tokens = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        if (tokens.Length > 0 && tokens[^1].Length == 0) tokens = tokens[..^1];
        copy.Position = 0;
        BertTokenizer bert;
        try
        {
            bert = BertTokenizer.Create(copy, new BertOptions
            {
                LowerCaseBeforeTokenization = lowerCase,
                // As BERT's uncased vocabularies expect (Hugging Face strips accents whenever it lower-cases).
                RemoveNonSpacingMarks = lowerCase,
                // Special tokens typed in the text ("[MASK]") stay whole, as with BertTokenizer's own pre-tokenizer; after
                // lower-casing they read "[mask]", so both spellings are listed.
                PreTokenizer = BertWords(SpecialTokens(tokens, lowerCase)),
            });
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"not a usable WordPiece vocab: {e.Message}", e);
        }
        return new(bert, tokens, lowerCase);
    }

    /// <summary>The special tokens the vocabulary holds, by their ids (and lower-cased too when the text is).</summary>
    private static Dictionary<string, int> SpecialTokens(string[] tokens, bool lowerCase)
    {
        var special = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" })
        {
            var id = Array.IndexOf(tokens, name);
            if (id < 0) continue;
            special[name] = id;
            if (lowerCase) special[name.ToLowerInvariant()] = id;
        }
        return special;
    }

    /// <summary>The number of tokens in the vocabulary.</summary>
    public int VocabularySize => _tokens.Length;

    /// <summary>The id of [CLS], which starts every encoded text.</summary>
    public int ClassificationTokenId => _bert.ClassificationTokenId;

    /// <summary>The id of [SEP], which ends every encoded text.</summary>
    public int SeparatorTokenId => _bert.SeparatorTokenId;

    /// <summary>The id of [PAD], which fills a batch's shorter texts.</summary>
    public int PaddingTokenId => _bert.PaddingTokenId;

    /// <summary>The WordPiece tokens of a text, without [CLS]/[SEP] (for display and tests).</summary>
    public IReadOnlyList<string> Tokenize(string text) =>
        _bert.EncodeToIds(Prepare(text), addSpecialTokens: false).Select(IdToToken).ToArray();

    /// <summary>The vocabulary token with this id.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the vocabulary.</exception>
    public string IdToToken(int id) =>
        (uint)id < (uint)_tokens.Length ? _tokens[id] : throw new ArgumentOutOfRangeException(nameof(id), id, $"The vocabulary has {_tokens.Length} tokens.");

    /// <summary>
    /// BERT's clean-up first (<see cref="Clean"/>), then the accents stripped: BertTokenizer strips them through
    /// string.Normalize, which does nothing in invariant mode.
    /// </summary>
    private string Prepare(string text)
    {
        var cleaned = Clean(text);
        return _lowerCase ? AccentStripper.Strip(cleaned) : cleaned;
    }

    /// <summary>
    /// Hugging Face's BERT splitting: a word is a run of anything but white space and punctuation; punctuation is every
    /// printable ASCII character that is not a letter or digit, and Unicode's P categories, one character a token.
    /// BertTokenizer's default (words of \w and \p{P}) drops everything else: '$', '+', '=', '|', '€', '°', emoji.
    /// </summary>
    private static PreTokenizer BertWords(IReadOnlyDictionary<string, int> specialTokens) => new RegexPreTokenizer(BertWordPattern(), specialTokens);

    // Source-generated: it runs on every text encoded (every request a server embeds).
    [System.Text.RegularExpressions.GeneratedRegex(@"[^\s\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E\p{P}]+|[\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E\p{P}]",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex BertWordPattern();

    /// <summary>
    /// What Hugging Face's BertNormalizer does before splitting, and BertTokenizer here does not: tabs, line breaks and
    /// other white space become spaces (they were dropped, gluing "new\nline" into "new ##line"), and control and format
    /// characters (a soft hyphen, a zero-width space) are removed (they split a word).
    /// </summary>
    internal static string Clean(string text)
    {
        var simple = true;
        foreach (var c in text)
            if (c < ' ' || c > '~') { simple = false; break; }
        if (simple) return text;
        var cleaned = new System.Text.StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value is 0 or 0xFFFD) continue;
            var category = System.Text.Rune.GetUnicodeCategory(rune);
            if (rune.Value is '\t' or '\n' or '\r' || category == System.Globalization.UnicodeCategory.SpaceSeparator) cleaned.Append(' ');
            else if (category is System.Globalization.UnicodeCategory.Control or System.Globalization.UnicodeCategory.Format
                     or System.Globalization.UnicodeCategory.Surrogate or System.Globalization.UnicodeCategory.PrivateUse
                     or System.Globalization.UnicodeCategory.OtherNotAssigned) continue;
            else if (rune.IsBmp) cleaned.Append((char)rune.Value);
            else cleaned.Append(rune.ToString());
        }
        return cleaned.ToString();
    }

    /// <summary>[CLS] ids [SEP], the ids cut so that the whole is at most <paramref name="maxLength"/> long.</summary>
    public int[] Encode(string text, int maxLength = DefaultModel.MaxSequenceLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "The maximum length must leave room for [CLS] and [SEP] (at least 2).");
        var ids = _bert.EncodeToIds(Prepare(text), addSpecialTokens: false);
        var kept = Math.Min(ids.Count, maxLength - 2);
        var result = new int[kept + 2];
        result[0] = ClassificationTokenId;
        for (var i = 0; i < kept; i++) result[i + 1] = ids[i];
        result[^1] = SeparatorTokenId;
        return result;
    }

    /// <summary>
    /// Encodes texts and pads them to the longest (or to <paramref name="padToLength"/> when given, which
    /// must not be shorter than the longest).
    /// </summary>
    public TokenBatch EncodeBatch(IReadOnlyList<string> texts, int maxLength = DefaultModel.MaxSequenceLength, int? padToLength = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("At least one text is needed.", nameof(texts));
        var encoded = texts.Select(t => Encode(t, maxLength)).ToArray();
        var longest = encoded.Max(e => e.Length);
        var sequence = padToLength ?? longest;
        if (sequence < longest)
            throw new ArgumentOutOfRangeException(nameof(padToLength), padToLength, $"Texts are up to {longest} tokens long; cannot pad to fewer.");
        var shape = new[] { texts.Count, sequence };
        var ids = Tensor<long>.Allocate(shape, clear: false);
        var mask = Tensor<long>.Allocate(shape);
        var types = Tensor<long>.Allocate(shape);
        ids.Span.Fill(PaddingTokenId);
        for (var b = 0; b < encoded.Length; b++)
        {
            var row = ids.Span.Slice(b * sequence, sequence);
            var maskRow = mask.Span.Slice(b * sequence, sequence);
            for (var i = 0; i < encoded[b].Length; i++)
            {
                row[i] = encoded[b][i];
                maskRow[i] = 1;
            }
        }
        return new TokenBatch(ids, mask, types, encoded.Select(e => e.Length).ToArray());
    }
}
