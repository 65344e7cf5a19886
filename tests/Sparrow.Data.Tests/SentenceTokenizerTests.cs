using Sparrow.Data.Models;
using Sparrow.Data.Text;

namespace Sparrow.Data.Tests;

/// <summary>Token ids are checked against the vocab file itself (a token's id is its line number), not against our own earlier output.</summary>
public class SentenceTokenizerTests
{
    private static readonly IReadOnlyList<string> Vocab = DefaultModel.ReadVocab();
    private static readonly SentenceTokenizer Tokenizer = SentenceTokenizer.Default;

    private static int Id(string token)
    {
        var id = Vocab.ToList().IndexOf(token);
        Assert.True(id >= 0, $"'{token}' is not in the vocab");
        return id;
    }

    [Fact]
    public void Encodes_a_sentence_to_the_vocab_ids_wrapped_in_cls_and_sep()
    {
        var ids = Tokenizer.Encode("Hello, world! The quick brown fox.");
        var expected = new[] { "[CLS]", "hello", ",", "world", "!", "the", "quick", "brown", "fox", ".", "[SEP]" }.Select(Id);
        Assert.Equal(expected, ids);
    }

    [Fact]
    public void Splits_unknown_words_into_wordpieces()
    {
        Assert.DoesNotContain("tokenization", Vocab);
        Assert.Equal(new[] { "token", "##ization" }, Tokenizer.Tokenize("tokenization"));
        Assert.Equal(new[] { Id("[CLS]"), Id("token"), Id("##ization"), Id("[SEP]") }, Tokenizer.Encode("tokenization"));
    }

    [Fact]
    public void Lower_cases_and_strips_accents_like_bert_uncased()
    {
        Assert.Equal(Tokenizer.Encode("hello world"), Tokenizer.Encode("HELLO World"));
        Assert.Equal(new[] { "cafe" }, Tokenizer.Tokenize("Café"));
        Assert.Equal(new[] { "naive" }, Tokenizer.Tokenize("naïve"));
    }

    [Fact]
    public void Splits_punctuation_and_maps_unknown_words_to_unk()
    {
        Assert.Equal(new[] { "don", "'", "t", "stop", "-", "believing" }, Tokenizer.Tokenize("don't stop-believing"));
        // Runic letters are not in the vocab, not even as single characters.
        Assert.Equal(new[] { "i", "[UNK]", "chess" }, Tokenizer.Tokenize("I ᚠᚢᚦ chess"));
    }

    /// <summary>Hugging Face's BERT tokenizer on the same texts (token strings, so the expectations read as they should).</summary>
    [Theory]
    [InlineData("hello\nworld", "hello world")]
    [InlineData("new\tline\r\nagain", "new line again")]
    [InlineData("co\u00adoperate", "cooperate")]
    [InlineData("a\u200bb", "ab")]
    [InlineData("ok $5 ok", "ok $ 5 ok")]
    [InlineData("1+1 = 2", "1 + 1 = 2")]
    [InlineData("a|b ^ `c` ~d <e>", "a | b ^ ` c ` ~ d < e >")]
    [InlineData("10 € at 20 °c", "10 € at 20 °c")]
    [InlineData("\U0001F600 ok", "[UNK] ok")]
    [InlineData("hi\U0001F600 ok", "[UNK] ok")]
    [InlineData("x [SEP] y [MASK] z", "x [SEP] y [MASK] z")]
    public void Cleans_and_splits_text_as_hugging_face_bert_does(string text, string tokens) =>
        Assert.Equal(tokens.Split(' '), Tokenizer.Tokenize(text));

    [Fact]
    public void Special_ids_match_the_vocab()
    {
        Assert.Equal(Id("[CLS]"), Tokenizer.ClassificationTokenId);
        Assert.Equal(Id("[SEP]"), Tokenizer.SeparatorTokenId);
        Assert.Equal(Id("[PAD]"), Tokenizer.PaddingTokenId);
        Assert.Equal(Vocab.Count, Tokenizer.VocabularySize);
        Assert.Equal("hello", Tokenizer.IdToToken(Id("hello")));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(256)]
    [InlineData(512)]
    public void Truncates_long_text_to_the_maximum_length_keeping_sep(int maxLength)
    {
        var text = string.Join(' ', Enumerable.Repeat("the cat sat on the mat", 200));
        var ids = Tokenizer.Encode(text, maxLength);
        Assert.Equal(maxLength, ids.Length);
        Assert.Equal(Tokenizer.ClassificationTokenId, ids[0]);
        Assert.Equal(Tokenizer.SeparatorTokenId, ids[^1]);
        if (maxLength > 2) Assert.Equal(Id("the"), ids[1]);
    }

    [Fact]
    public void Rejects_a_maximum_length_without_room_for_special_tokens() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Encode("hi", 1));

    [Fact]
    public void Batches_pad_to_the_longest_with_a_zero_mask_and_zero_token_types()
    {
        using var batch = Tokenizer.EncodeBatch(new[] { "a cat", "the quick brown fox jumps" });
        Assert.Equal(2, batch.BatchSize);
        Assert.Equal(7, batch.SequenceLength);
        Assert.Equal(new[] { 4, 7 }, batch.Lengths);
        var ids = batch.InputIds.Span;
        var mask = batch.AttentionMask.Span;
        Assert.Equal(new long[] { Id("[CLS]"), Id("a"), Id("cat"), Id("[SEP]"), 0, 0, 0 }, ids[..7].ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 0, 0 }, mask[..7].ToArray());
        Assert.Equal(Enumerable.Repeat(1L, 7), mask[7..].ToArray());
        Assert.All(batch.TokenTypeIds.ToArray(), t => Assert.Equal(0, t));
        Assert.Equal(0, Id("[PAD]"));
    }

    [Fact]
    public void Batches_pad_to_a_requested_length_and_refuse_a_shorter_one()
    {
        using var batch = Tokenizer.EncodeBatch(new[] { "a cat" }, padToLength: 16);
        Assert.Equal(16, batch.SequenceLength);
        Assert.Equal(4, batch.AttentionMask.Span.ToArray().Sum(v => (int)v));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.EncodeBatch(new[] { "a cat sat" }, padToLength: 3));
    }

    [Fact]
    public void Inputs_can_be_limited_to_those_a_model_takes()
    {
        using var batch = Tokenizer.EncodeBatch(new[] { "hi" });
        Assert.Equal(3, batch.ToInputs().Count);
        Assert.Equal(new[] { TokenBatch.InputIdsName }, batch.ToInputs(new[] { TokenBatch.InputIdsName }).Keys);
    }

    [Fact]
    public void A_custom_vocab_gives_ids_by_line_number()
    {
        var vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n##s\n[MASK]\n";
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(vocab));
        var tokenizer = SentenceTokenizer.FromVocab(stream);
        Assert.Equal(new[] { 2, 4, 5, 6, 3 }, tokenizer.Encode("Hello worlds"));
        Assert.Equal(new[] { 2, 1, 3 }, tokenizer.Encode("xyz"));
        Assert.Equal(8, tokenizer.VocabularySize);
    }

    [Fact]
    public void A_vocab_without_the_special_tokens_is_rejected_with_a_clear_error()
    {
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes("hello\nworld\n"));
        var e = Assert.Throws<InvalidDataException>(() => SentenceTokenizer.FromVocab(stream));
        Assert.Contains("vocab", e.Message);
    }
}
