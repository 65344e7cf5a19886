using Sparrow.Graph;
using Sparrow.Graph.Passes;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Passes;

public class GeluOperatorTests
{
    private static Model GeluModel(string domain, string? approximate, int[] shape)
    {
        var graph = new ModelGraph { Name = "gelu" };
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, shape.Select(d => Dimension.Fixed(d)).ToArray()));
        var node = new Node("Gelu", new[] { "x" }, new[] { "y" }, "gelu", domain);
        if (approximate is not null) node.SetAttribute(NodeAttribute.String("approximate", approximate));
        graph.Nodes.Add(node);
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 20;
        if (domain.Length > 0) model.OpsetImports[domain] = 1;
        return model;
    }

    private static float[] RandomValues(int count, int seed, float scale)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    /// <summary>erf in double from its everywhere-positive series (accurate to ~1e-15 for |x| &lt; 6).</summary>
    private static double Erf(double x)
    {
        var a = Math.Abs(x);
        if (a >= 6) return Math.Sign(x);
        double x2 = a * a, term = a, sum = a;
        for (var n = 1; term > 1e-18 * sum; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
    }

    private static float[] Run(Model model, float[] x, int[] shape, int threads = 1)
    {
        using var session = new InferenceSession(model, new SessionOptions { IntraOpThreads = threads });
        var outputs = session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(x, shape) });
        using var y = outputs["y"];
        Assert.Equal(shape, y.Shape.ToArray());
        return y.As<float>().ToArray();
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("", "none")]
    [InlineData(SparrowOps.Domain, null)]
    public void Exact_gelu_matches_a_double_reference(string domain, string? approximate)
    {
        int[] shape = { 3, 7, 11 };
        var x = RandomValues(3 * 7 * 11, seed: 11, scale: 6);
        var y = Run(GeluModel(domain, approximate, shape), x, shape);
        for (var i = 0; i < x.Length; i++)
        {
            var expected = 0.5 * x[i] * (1 + Erf(x[i] / Math.Sqrt(2)));
            Assert.True(Math.Abs(y[i] - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"gelu({x[i]}) = {y[i]}, expected {expected}");
        }
    }

    [Fact]
    public void Tanh_gelu_matches_a_double_reference()
    {
        int[] shape = { 5, 13 };
        var x = RandomValues(65, seed: 12, scale: 6);
        var y = Run(GeluModel("", "tanh", shape), x, shape);
        for (var i = 0; i < x.Length; i++)
        {
            double v = x[i];
            var expected = 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
            Assert.True(Math.Abs(y[i] - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"gelu_tanh({x[i]}) = {y[i]}, expected {expected}");
        }
    }

    [Fact]
    public void Many_threads_give_the_same_bits_as_one()
    {
        int[] shape = { 4, 40_000 };
        var x = RandomValues(160_000, seed: 13, scale: 5);
        var model = GeluModel(SparrowOps.Domain, null, shape);
        Assert.Equal(Run(model, x, shape, threads: 1), Run(model, x, shape, threads: 4));
    }

    [Fact]
    public void An_unknown_approximation_is_rejected_when_the_session_is_created()
    {
        var error = Assert.ThrowsAny<Exception>(() => new InferenceSession(GeluModel("", "sigmoid", new[] { 2 })));
        Assert.Contains("approximate", error.Message);
        Assert.Contains("not supported", error.Message);
    }

    [Fact]
    public void A_non_float_input_is_rejected_with_its_type()
    {
        var graph = new ModelGraph();
        graph.Inputs.Add(new ValueInfo("x", DataType.Int64, new[] { Dimension.Fixed(2) }));
        graph.Nodes.Add(new Node("Gelu", new[] { "x" }, new[] { "y" }, "gelu", SparrowOps.Domain));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        using var session = new InferenceSession(new Model(graph));
        var error = Assert.ThrowsAny<Exception>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor<long>.FromArray(new long[] { 1, 2 }, 2) }));
        Assert.Contains("int64", error.Message);
    }
}
