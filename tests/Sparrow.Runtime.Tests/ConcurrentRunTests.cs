using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests;

/// <summary>One session used from many threads at once gives what sequential runs give.</summary>
public sealed class ConcurrentRunTests
{
    /// <summary>A two-layer MLP with softmax: enough operators and intermediates to expose shared state.</summary>
    private static Model Mlp(int seed)
    {
        var random = new Random(seed);
        float[] Weights(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var graph = new ModelGraph();
        graph.Initializers["W1"] = Tensor<float>.FromArray(Weights(32 * 64), 32, 64);
        graph.Initializers["B1"] = Tensor<float>.FromArray(Weights(64), 64);
        graph.Initializers["W2"] = Tensor<float>.FromArray(Weights(64 * 10), 64, 10);
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, new[] { Dimension.Named("batch"), Dimension.Fixed(32) }));
        graph.Outputs.Add(new ValueInfo("p", DataType.Float32, null));
        graph.Nodes.Add(new Node("MatMul", new[] { "x", "W1" }, new[] { "h0" }));
        graph.Nodes.Add(new Node("Add", new[] { "h0", "B1" }, new[] { "h1" }));
        graph.Nodes.Add(new Node("Relu", new[] { "h1" }, new[] { "h2" }));
        graph.Nodes.Add(new Node("MatMul", new[] { "h2", "W2" }, new[] { "logits" }));
        graph.Nodes.Add(new Node("Softmax", new[] { "logits" }, new[] { "p" }));
        return new Model(graph);
    }

    [Fact]
    public void Eight_threads_get_the_sequential_results()
    {
        using var session = new InferenceSession(Mlp(3), new SessionOptions { IntraOpThreads = 2 });
        var random = new Random(11);
        var inputs = Enumerable.Range(0, 16).Select(i =>
        {
            var batch = 1 + i % 5;
            var data = Enumerable.Range(0, batch * 32).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
            return Tensor<float>.FromArray(data, batch, 32);
        }).ToArray();
        var expected = inputs.Select(x =>
        {
            var outputs = session.Run(new Dictionary<string, Tensor> { ["x"] = x });
            using var p = outputs["p"];
            return p.As<float>().ToArray();
        }).ToArray();

        var failures = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, thread =>
        {
            for (var run = 0; run < 100; run++)
            {
                var k = (thread * 7 + run) % inputs.Length;
                var outputs = session.Run(new Dictionary<string, Tensor> { ["x"] = inputs[k] });
                using var p = outputs["p"];
                if (!p.As<float>().Span.SequenceEqual(expected[k])) Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }
}
