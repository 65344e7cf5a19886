using Microsoft.ML.Tokenizers;
using Sparrow.Data.Models;
using Sparrow.Tensors;

namespace Sparrow.Data.Text;

/// <summary>
/// BERT WordPiece tokenisation for sentence encoders (Microsoft.ML.Tokenizers' BertTokenizer over a vocab
/// file): lower-cases, splits punctuation, wraps each text in [CLS] ... [SEP], truncates to a maximum
/// length and pads batches.
/// </summary>
public sealed class SentenceTokenizer
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
            });
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"not a usable WordPiece vocab: {e.Message}", e);
        }
        return new(bert, tokens, lowerCase);
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

    /// <summary>BertTokenizer strips accents through string.Normalize, which does nothing in invariant mode; do it here.</summary>
    private string Prepare(string text) => _lowerCase ? AccentStripper.Strip(text) : text;

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
