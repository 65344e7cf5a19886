using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests;

public sealed class ConcurrentElementwiseTests
{
    /// <summary>GELU as exporters write it (x * 0.5 * (1 + erf(x / √2))) plus a bias, run from several threads at once.</summary>
    [Fact]
    public void Element_wise_graph_gives_the_same_results_from_many_threads()
    {
        var graph = new ModelGraph();
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, [Dimension.Named("rows"), Dimension.Fixed(64)]));
        graph.Initializers["bias"] = Tensor<float>.FromArray(Enumerable.Range(0, 64).Select(i => i / 64f).ToArray(), 64);
        graph.Initializers["sqrt2"] = Tensor<float>.Scalar(MathF.Sqrt(2));
        graph.Initializers["one"] = Tensor<float>.Scalar(1);
        graph.Initializers["half"] = Tensor<float>.Scalar(0.5f);
        graph.Nodes.Add(new Node("Add", ["x", "bias"], ["h"]));
        graph.Nodes.Add(new Node("Div", ["h", "sqrt2"], ["scaled"]));
        graph.Nodes.Add(new Node("Erf", ["scaled"], ["erf"]));
        graph.Nodes.Add(new Node("Add", ["erf", "one"], ["shifted"]));
        graph.Nodes.Add(new Node("Mul", ["h", "shifted"], ["product"]));
        graph.Nodes.Add(new Node("Mul", ["product", "half"], ["y"]));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        using var session = new InferenceSession(new Model(graph), new SessionOptions { IntraOpThreads = 2 });

        var inputs = Enumerable.Range(0, 8).Select(seed =>
        {
            var random = new Random(seed);
            var rows = 1 + seed * 97;
            return Tensor<float>.FromArray(Enumerable.Range(0, rows * 64).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray(), rows, 64);
        }).ToArray();
        var expected = inputs.Select(x =>
        {
            using var y = session.Run(new Dictionary<string, Tensor> { ["x"] = x })["y"];
            return y.As<float>().ToArray();
        }).ToArray();

        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var k = i % inputs.Length;
            using var y = session.Run(new Dictionary<string, Tensor> { ["x"] = inputs[k] })["y"];
            Assert.Equal(expected[k], y.As<float>().ToArray());
        });

        // And the values are GELU's.
        var x0 = inputs[3].ToArray();
        for (var i = 0; i < x0.Length; i++)
        {
            var h = (double)(x0[i] + (i % 64) / 64f);
            var gelu = h * 0.5 * (1 + Sparrow.Runtime.Operators.ScalarErf.Erf(h / Math.Sqrt(2)));
            Assert.True(Math.Abs(expected[3][i] - gelu) <= 1e-6 * Math.Abs(gelu) + 1e-6, $"element {i}: {expected[3][i]} vs {gelu}");
        }
    }
}
