using Sparrow.Data.Embeddings;
using Sparrow.Data.Text;
using Sparrow.Tensors;

namespace Sparrow.Data.Tests;

public class EmbeddingTests
{
    [Fact]
    public void Mean_pool_averages_only_unmasked_tokens()
    {
        // batch 2, seq 3, dim 2
        var hidden = Tensor<float>.FromArray(new float[] { 1, 2, 3, 4, 100, 100, 5, 5, 7, 9, -1, -1 }, 2, 3, 2);
        var mask = Tensor<long>.FromArray(new long[] { 1, 1, 0, 1, 1, 1 }, 2, 3);
        var pooled = EmbeddingMath.MeanPool(hidden, mask);
        Assert.Equal(new float[] { 2, 3 }, pooled[0]);
        Assert.Equal(new float[] { 11f / 3, 13f / 3 }, pooled[1]);
    }

    [Fact]
    public void Mean_pool_of_a_fully_masked_row_is_zero()
    {
        var hidden = Tensor<float>.FromArray(new float[] { 1, 2, 3, 4 }, 1, 2, 2);
        var mask = Tensor<long>.FromArray(new long[] { 0, 0 }, 1, 2);
        Assert.Equal(new float[] { 0, 0 }, EmbeddingMath.MeanPool(hidden, mask)[0]);
    }

    [Fact]
    public void Mean_pool_rejects_mismatched_shapes()
    {
        var hidden = Tensor<float>.Allocate(new[] { 1, 2, 2 });
        Assert.Throws<ArgumentException>(() => EmbeddingMath.MeanPool(hidden, Tensor<long>.Allocate(new[] { 1, 3 })));
        Assert.Throws<ArgumentException>(() => EmbeddingMath.MeanPool(Tensor<float>.Allocate(new[] { 2, 2 }), Tensor<long>.Allocate(new[] { 1, 2 })));
    }

    [Fact]
    public void L2_normalize_gives_unit_length_and_keeps_zero()
    {
        var v = new float[] { 3, 4 };
        EmbeddingMath.L2Normalize(v);
        Assert.Equal(0.6f, v[0], 6);
        Assert.Equal(0.8f, v[1], 6);
        var zero = new float[3];
        EmbeddingMath.L2Normalize(zero);
        Assert.All(zero, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void Cosine_similarity_of_known_vectors()
    {
        Assert.Equal(1f, EmbeddingMath.CosineSimilarity(new float[] { 1, 2, 3 }, new float[] { 2, 4, 6 }), 6);
        Assert.Equal(0f, EmbeddingMath.CosineSimilarity(new float[] { 1, 0 }, new float[] { 0, 5 }), 6);
        Assert.Equal(-1f, EmbeddingMath.CosineSimilarity(new float[] { 1, 1 }, new float[] { -2, -2 }), 6);
        Assert.Equal(0f, EmbeddingMath.CosineSimilarity(new float[] { 0, 0 }, new float[] { 1, 1 }));
        Assert.Throws<ArgumentException>(() => EmbeddingMath.CosineSimilarity(new float[2], new float[3]));
        var m = EmbeddingMath.SimilarityMatrix(new[] { new float[] { 1, 0 }, new float[] { 1, 1 } });
        Assert.Equal(MathF.Sqrt(0.5f), m[0, 1], 6);
        Assert.Equal(m[0, 1], m[1, 0]);
    }

    /// <summary>A stand-in encoder whose token state depends only on the token id, so pooling can be checked by hand.</summary>
    private static IReadOnlyDictionary<string, Tensor> FakeEncoder(IReadOnlyDictionary<string, Tensor> inputs, List<int[]> seenShapes)
    {
        var ids = (Tensor<long>)inputs[TokenBatch.InputIdsName];
        seenShapes.Add(ids.CopyShape());
        var hidden = Tensor<float>.Allocate(new[] { ids.Shape[0], ids.Shape[1], 3 });
        var span = hidden.Span;
        for (var i = 0; i < ids.Length; i++)
        {
            var id = ids.Span[i];
            span[3 * i] = id % 7;
            span[3 * i + 1] = 1;
            span[3 * i + 2] = -(id % 3);
        }
        return new Dictionary<string, Tensor> { ["last_hidden_state"] = hidden };
    }

    [Fact]
    public void Embedder_pools_normalises_and_ignores_padding_and_batching()
    {
        var shapes = new List<int[]>();
        var embedder = new SentenceEmbedder(inputs => FakeEncoder(inputs, shapes));
        var texts = new[] { "a cat", "the quick brown fox jumps over the lazy dog", "hello", "hello world", "x" };
        var together = embedder.Embed(texts, batchSize: 8);
        var apart = embedder.Embed(texts, batchSize: 2);
        Assert.Equal(1 + 3, shapes.Count);
        Assert.Equal(5, shapes[0][0]);
        Assert.Equal(new[] { 2, 2, 1 }, shapes.Skip(1).Select(s => s[0]));
        for (var i = 0; i < texts.Length; i++)
        {
            Assert.Equal(1f, MathF.Sqrt(together[i].Sum(x => x * x)), 5);
            for (var d = 0; d < 3; d++) Assert.Equal(together[i][d], apart[i][d], 6);
        }
        // By hand for "hello": [CLS] hello [SEP].
        var ids = SentenceTokenizer.Default.Encode("hello");
        var expected = new float[] { (float)ids.Average(id => id % 7), 1, (float)-ids.Average(id => id % 3) };
        EmbeddingMath.L2Normalize(expected);
        for (var d = 0; d < 3; d++) Assert.Equal(expected[d], together[2][d], 5);
    }

    [Fact]
    public void Embedder_feeds_only_the_named_inputs_and_reports_a_missing_output()
    {
        var fed = new List<string>();
        var embedder = new SentenceEmbedder(inputs =>
        {
            fed.AddRange(inputs.Keys);
            return new Dictionary<string, Tensor> { ["other"] = Tensor<float>.Allocate(new[] { 1, 1, 1 }) };
        }, inputNames: new[] { TokenBatch.InputIdsName, TokenBatch.AttentionMaskName });
        var e = Assert.Throws<InvalidOperationException>(() => embedder.Embed(new[] { "hi" }));
        Assert.Contains("last_hidden_state", e.Message);
        Assert.Equal(new[] { TokenBatch.AttentionMaskName, TokenBatch.InputIdsName }, fed.Order());
    }
}
