using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Operators;

/// <summary>The fused Attention operator run directly: a naive reference, and the errors a bad model gets.</summary>
public class AttentionOperatorTests
{
    private static Tensor<float> Random(Random random, params int[] shape)
    {
        var data = new float[TensorShape.Product(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return Tensor<float>.FromArray(data, shape);
    }

    private static Tensor Run(IReadOnlyList<(string Name, Tensor Value)> inputs, params NodeAttribute[] attributes)
    {
        var graph = new ModelGraph { Name = "attention" };
        foreach (var (name, value) in inputs)
            graph.Inputs.Add(new ValueInfo(name, value.ElementType, value.Shape.ToArray().Select(d => Dimension.Fixed(d)).ToArray()));
        var node = new Node("Attention", inputs.Select(i => i.Name), new[] { "y" }, "attention", OperatorContext.SparrowDomain);
        node.Attributes.AddRange(attributes);
        graph.Nodes.Add(node);
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 13;
        model.OpsetImports[OperatorContext.SparrowDomain] = 1;
        using var session = new InferenceSession(model, new SessionOptions { IntraOpThreads = 2 });
        return session.Run(inputs.ToDictionary(i => i.Name, i => i.Value))["y"];
    }

    [Theory]
    [InlineData(2, 5, 7, 3, 4, 6, true)]
    [InlineData(1, 1, 1, 1, 1, 1, false)]
    [InlineData(3, 9, 2, 2, 17, 3, true)]
    public void Matches_a_naive_reference(int batch, int queries, int keys, int heads, int size, int valueSize, bool masked)
    {
        var random = new Random(batch * 100 + queries);
        var q = Random(random, batch, queries, heads, size);
        var k = Random(random, batch, keys, heads, size);
        var v = Random(random, batch, keys, heads, valueSize);
        var mask = Random(random, batch, 1, queries, keys);
        var inputs = new List<(string, Tensor)> { ("q", q), ("k", k), ("v", v) };
        if (masked) inputs.Add(("mask", mask));
        using var y = Run(inputs, NodeAttribute.Float("scale", 0.3f));
        Assert.Equal(new[] { batch, queries, heads, valueSize }, y.Shape.ToArray());
        var actual = y.As<float>().Span;
        for (var b = 0; b < batch; b++)
        for (var h = 0; h < heads; h++)
        for (var i = 0; i < queries; i++)
        {
            var scores = new double[keys];
            for (var j = 0; j < keys; j++)
            {
                double dot = 0;
                for (var d = 0; d < size; d++)
                    dot += (double)q.Span[((b * queries + i) * heads + h) * size + d] * k.Span[((b * keys + j) * heads + h) * size + d];
                scores[j] = dot * 0.3f + (masked ? mask.Span[(b * queries + i) * keys + j] : 0);
            }
            var max = scores.Max();
            var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
            var sum = weights.Sum();
            for (var e = 0; e < valueSize; e++)
            {
                double expected = 0;
                for (var j = 0; j < keys; j++) expected += weights[j] / sum * v.Span[((b * keys + j) * heads + h) * valueSize + e];
                var got = actual[((b * queries + i) * heads + h) * valueSize + e];
                Assert.True(Math.Abs(got - expected) <= 1e-5, $"b{b} h{h} q{i} e{e}: {got} vs {expected}");
            }
        }
    }

    [Fact]
    public void Empty_keys_give_zeros_and_empty_queries_an_empty_output()
    {
        var random = new Random(3);
        using var noKeys = Run(new (string, Tensor)[] { ("q", Random(random, 1, 3, 2, 4)), ("k", Random(random, 1, 0, 2, 4)), ("v", Random(random, 1, 0, 2, 5)) });
        Assert.Equal(new[] { 1, 3, 2, 5 }, noKeys.Shape.ToArray());
        Assert.All(noKeys.As<float>().Span.ToArray(), value => Assert.Equal(0f, value));
        using var noQueries = Run(new (string, Tensor)[] { ("q", Random(random, 1, 0, 2, 4)), ("k", Random(random, 1, 3, 2, 4)), ("v", Random(random, 1, 3, 2, 5)) });
        Assert.Equal(new[] { 1, 0, 2, 5 }, noQueries.Shape.ToArray());
    }

    [Theory]
    [InlineData(new[] { 1, 4, 2, 8 }, new[] { 1, 4, 2, 6 }, new[] { 1, 4, 2, 8 }, null, "head size")]
    [InlineData(new[] { 1, 4, 2, 8 }, new[] { 1, 4, 2, 8 }, new[] { 1, 5, 2, 8 }, null, "sequence length")]
    [InlineData(new[] { 2, 4, 2, 8 }, new[] { 3, 4, 2, 8 }, new[] { 3, 4, 2, 8 }, null, "batch")]
    [InlineData(new[] { 1, 4, 2, 8 }, new[] { 1, 4, 2, 8 }, new[] { 1, 4, 2, 8 }, new[] { 1, 1, 3, 4 }, "does not broadcast")]
    [InlineData(new[] { 4, 2, 8 }, new[] { 1, 4, 2, 8 }, new[] { 1, 4, 2, 8 }, null, "rank 4")]
    public void Bad_shapes_are_named_in_the_error(int[] q, int[] k, int[] v, int[]? mask, string expected)
    {
        var random = new Random(5);
        var inputs = new List<(string, Tensor)> { ("q", Random(random, q)), ("k", Random(random, k)), ("v", Random(random, v)) };
        if (mask is not null) inputs.Add(("mask", Random(random, mask)));
        var error = Assert.Throws<InferenceException>(() => Run(inputs));
        Assert.Contains(expected, error.Message);
        Assert.Contains("attention", error.Message);
    }

    [Fact]
    public void Both_divisor_and_scale_is_rejected() =>
        Assert.ThrowsAny<Exception>(() => Run(new (string, Tensor)[] { ("q", Random(new Random(1), 1, 1, 1, 1)), ("k", Random(new Random(2), 1, 1, 1, 1)), ("v", Random(new Random(3), 1, 1, 1, 1)) },
            NodeAttribute.Float("divisor", 2), NodeAttribute.Float("scale", 2)));
}
