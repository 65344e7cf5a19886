using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Graph.Passes;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;
using Ort = Microsoft.ML.OnnxRuntime;

namespace Sparrow.Runtime.Tests.Operators;

/// <summary>ai.sparrow:MoE against a naive reference that loops over experts densely, its capacity rule, and its plain-ONNX expansion run in ONNX Runtime.</summary>
public class MoEOperatorTests
{
    /// <summary>A layer's weights, biases null where omitted.</summary>
    internal sealed record Layer(int E, int D, int H, float[] Router, float[]? RouterBias, float[] W1, float[]? B1, float[] W2, float[]? B2);

    internal static Layer RandomLayer(Random random, int e, int d, int h, bool biases, float scale = 0.5f)
    {
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
        return new Layer(e, d, h, Values(e * d), biases ? Values(e) : null, Values(e * h * d), biases ? Values(e * h) : null, Values(e * d * h),
            biases ? Values(e * d) : null);
    }

    internal static float[] RandomInput(Random random, int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    internal static Model BuildModel(Layer layer, int[] xShape, int outputs = 1, params NodeAttribute[] attributes)
    {
        var graph = new ModelGraph { Name = "moe" };
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, xShape.Select(d => Dimension.Fixed(d)).ToArray()));
        void Init(string name, float[]? values, params int[] shape)
        {
            if (values is not null) graph.Initializers[name] = Tensor<float>.FromArray(values, shape);
        }
        Init("router", layer.Router, layer.E, layer.D);
        Init("router_bias", layer.RouterBias, layer.E);
        Init("w1", layer.W1, layer.E, layer.H, layer.D);
        Init("b1", layer.B1, layer.E, layer.H);
        Init("w2", layer.W2, layer.E, layer.D, layer.H);
        Init("b2", layer.B2, layer.E, layer.D);
        var inputs = new List<string> { "x", "router", layer.RouterBias is null ? "" : "router_bias", "w1", layer.B1 is null ? "" : "b1", "w2" };
        if (layer.B2 is not null) inputs.Add("b2");
        string[] outputNames = ["y", "counts", "logits"];
        var node = new Node(SparrowOps.MoE, inputs, outputNames.Take(outputs), "moe0", SparrowOps.Domain);
        node.Attributes.AddRange(attributes);
        graph.Nodes.Add(node);
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        if (outputs > 1) graph.Outputs.Add(new ValueInfo("counts", DataType.Int64, null));
        if (outputs > 2) graph.Outputs.Add(new ValueInfo("logits", DataType.Float32, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        model.OpsetImports[SparrowOps.Domain] = 1;
        return model;
    }

    internal static Dictionary<string, Tensor> Run(Model model, float[] x, int[] xShape, int threads = 1)
    {
        using var session = new InferenceSession(model, new SessionOptions { IntraOpThreads = threads });
        return new Dictionary<string, Tensor>(session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(x, xShape) }));
    }

    /// <summary>One expert on one token, densely in double: W2·act(W1·x + b1) + b2.</summary>
    private static double[] Expert(Layer l, int e, ReadOnlySpan<float> x, bool relu)
    {
        var hidden = new double[l.H];
        for (var j = 0; j < l.H; j++)
        {
            double s = l.B1?[e * l.H + j] ?? 0;
            for (var i = 0; i < l.D; i++) s += (double)l.W1[(e * l.H + j) * l.D + i] * x[i];
            hidden[j] = relu ? Math.Max(s, 0) : ErfKernel.Gelu((float)s);
        }
        var output = new double[l.D];
        for (var i = 0; i < l.D; i++)
        {
            double s = l.B2?[e * l.D + i] ?? 0;
            for (var j = 0; j < l.H; j++) s += (double)l.W2[(e * l.D + i) * l.H + j] * hidden[j];
            output[i] = s;
        }
        return output;
    }

    private static double[] Probabilities(Layer l, ReadOnlySpan<float> x)
    {
        var logits = new double[l.E];
        for (var e = 0; e < l.E; e++)
        {
            double s = l.RouterBias?[e] ?? 0;
            for (var i = 0; i < l.D; i++) s += (double)l.Router[e * l.D + i] * x[i];
            logits[e] = s;
        }
        var max = logits.Max();
        var exp = logits.Select(v => Math.Exp(v - max)).ToArray();
        var sum = exp.Sum();
        return exp.Select(v => v / sum).ToArray();
    }

    /// <summary>The naive reference: per token, route, then run every chosen expert densely; capacity claimed in token order.</summary>
    internal static float[] Reference(Layer l, float[] x, int k, bool relu, double capacityFactor = 0, bool normalize = true, bool weighted = true)
    {
        var tokens = x.Length / l.D;
        var capacity = capacityFactor > 0 ? (int)Math.Ceiling(capacityFactor * tokens * k / l.E) : int.MaxValue;
        var used = new int[l.E];
        var y = new float[x.Length];
        for (var t = 0; t < tokens; t++)
        {
            var row = x.AsSpan(t * l.D, l.D);
            var p = Probabilities(l, row);
            var chosen = Enumerable.Range(0, l.E).OrderByDescending(e => p[e]).ThenBy(e => e).Take(k).ToArray();
            var sum = chosen.Sum(e => p[e]);
            foreach (var e in chosen)
            {
                if (used[e]++ >= capacity) continue;
                var gate = !weighted ? 1 : normalize ? p[e] / sum : p[e];
                var o = Expert(l, e, row, relu);
                for (var i = 0; i < l.D; i++) y[t * l.D + i] += (float)(gate * o[i]);
            }
        }
        return y;
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance, $"element {i}: {actual[i]}, expected {expected[i]}");
    }

    [Theory]
    [InlineData(new[] { 7, 8 }, 4, 16, 1, "gelu", true, 1)]
    [InlineData(new[] { 2, 9, 12 }, 8, 20, 2, "relu", false, 1)]
    [InlineData(new[] { 3, 5, 6 }, 6, 10, 3, "gelu", true, 4)]
    [InlineData(new[] { 64, 32 }, 8, 48, 2, "gelu", true, 2)]
    [InlineData(new[] { 1, 5 }, 3, 7, 2, "relu", true, 1)]
    [InlineData(new[] { 130, 16 }, 16, 24, 4, "relu", true, 3)]
    public void Matches_a_naive_reference_that_loops_over_experts(int[] xShape, int experts, int hidden, int k, string activation, bool biases, int threads)
    {
        var random = new Random(xShape.Sum() * 13 + experts * 7 + k);
        var d = xShape[^1];
        var layer = RandomLayer(random, experts, d, hidden, biases);
        var x = RandomInput(random, xShape.Aggregate(1, (a, b) => a * b));
        var model = BuildModel(layer, xShape, 2, NodeAttribute.Int("k", k), NodeAttribute.String("activation", activation));
        var results = Run(model, x, xShape, threads);
        using var y = results["y"];
        using var counts = results["counts"];
        Assert.Equal(xShape, y.Shape.ToArray());
        AssertClose(Reference(layer, x, k, activation == "relu"), y.As<float>().Span);
        // Dropless: every token reaches all k of its experts.
        Assert.Equal((long)x.Length / d * k, counts.As<long>().Span.ToArray().Sum());
    }

    [Theory]
    [InlineData(4, 8, 12)]
    [InlineData(3, 5, 4)]
    public void With_k_equal_to_E_it_is_the_dense_softmax_mixture(int experts, int d, int hidden)
    {
        var random = new Random(experts * 31 + d);
        var layer = RandomLayer(random, experts, d, hidden, biases: true);
        var tokens = 11;
        var x = RandomInput(random, tokens * d);
        using var y = Run(BuildModel(layer, [tokens, d], 1, NodeAttribute.Int("k", experts)), x, [tokens, d])["y"];
        var expected = new float[x.Length];
        for (var t = 0; t < tokens; t++)
        {
            var p = Probabilities(layer, x.AsSpan(t * d, d));
            for (var e = 0; e < experts; e++)
            {
                var o = Expert(layer, e, x.AsSpan(t * d, d), relu: false);
                for (var i = 0; i < d; i++) expected[t * d + i] += (float)(p[e] * o[i]);
            }
        }
        AssertClose(expected, y.As<float>().Span);
    }

    [Fact]
    public void Without_gate_weights_and_k_equal_to_E_it_is_the_sum_of_the_experts()
    {
        var random = new Random(5);
        var layer = RandomLayer(random, 4, 6, 9, biases: true);
        var x = RandomInput(random, 10 * 6);
        using var y = Run(BuildModel(layer, [10, 6], 1, NodeAttribute.Int("k", 4), NodeAttribute.Int("gate_weighted", 0), NodeAttribute.String("activation", "relu")),
            x, [10, 6])["y"];
        var expected = new float[x.Length];
        for (var t = 0; t < 10; t++)
            for (var e = 0; e < 4; e++)
            {
                var o = Expert(layer, e, x.AsSpan(t * 6, 6), relu: true);
                for (var i = 0; i < 6; i++) expected[t * 6 + i] += (float)o[i];
            }
        AssertClose(expected, y.As<float>().Span);
    }

    /// <summary>
    /// Two experts, one-dimensional tokens 1, 2, 3, 4, k = 1. The router gives logits (7 − x, x): tokens 1..3 pick
    /// expert 0, token 4 expert 1. Expert e is c_e·relu(x) with c = (10, 100). Capacity factor 1 gives capacity
    /// ⌈1·4·1/2⌉ = 2: token 3, the third for expert 0, is dropped and its output is 0.
    /// </summary>
    [Theory]
    [InlineData(1f, new[] { 10f, 20f, 0f, 400f }, new long[] { 2, 1 })]
    [InlineData(0.5f, new[] { 10f, 0f, 0f, 400f }, new long[] { 1, 1 })]
    [InlineData(2f, new[] { 10f, 20f, 30f, 400f }, new long[] { 3, 1 })]
    [InlineData(0f, new[] { 10f, 20f, 30f, 400f }, new long[] { 3, 1 })]
    public void Capacity_drops_tokens_beyond_it_in_token_order(float capacityFactor, float[] expected, long[] expectedCounts)
    {
        var layer = new Layer(2, 1, 1, Router: [-1f, 1f], RouterBias: [7f, 0f], W1: [1f, 1f], B1: null, W2: [10f, 100f], B2: null);
        var results = Run(BuildModel(layer, [4, 1], 2, NodeAttribute.Int("k", 1), NodeAttribute.String("activation", "relu"),
            NodeAttribute.Float("capacity_factor", capacityFactor)), [1f, 2f, 3f, 4f], [4, 1]);
        using var y = results["y"];
        using var counts = results["counts"];
        AssertClose(expected, y.As<float>().Span);
        Assert.Equal(expectedCounts, counts.As<long>().Span.ToArray());
    }

    [Fact]
    public void Capacity_with_k_2_drops_only_the_late_choices_and_keeps_their_lost_gate_weight_out()
    {
        var random = new Random(17);
        var layer = RandomLayer(random, 4, 5, 6, biases: true, scale: 1.5f);
        var x = RandomInput(random, 20 * 5);
        var results = Run(BuildModel(layer, [20, 5], 2, NodeAttribute.Int("k", 2), NodeAttribute.Float("capacity_factor", 0.75f)), x, [20, 5]);
        using var y = results["y"];
        using var counts = results["counts"];
        AssertClose(Reference(layer, x, 2, relu: false, capacityFactor: 0.75), y.As<float>().Span);
        Assert.All(counts.As<long>().Span.ToArray(), c => Assert.True(c <= 8)); // ⌈0.75·20·2/4⌉ = 8
        Assert.True(counts.As<long>().Span.ToArray().Sum() < 40, "some choices should have been dropped");
    }

    [Fact]
    public void Gates_without_renormalisation_are_the_softmax_over_all_experts()
    {
        var random = new Random(23);
        var layer = RandomLayer(random, 5, 4, 6, biases: false);
        var x = RandomInput(random, 9 * 4);
        using var y = Run(BuildModel(layer, [9, 4], 1, NodeAttribute.Int("k", 2), NodeAttribute.Int("normalize_gates", 0)), x, [9, 4])["y"];
        AssertClose(Reference(layer, x, 2, relu: false, normalize: false), y.As<float>().Span);
    }

    [Fact]
    public void Router_logits_output_has_the_leading_shape_of_x()
    {
        var random = new Random(3);
        var layer = RandomLayer(random, 3, 4, 5, biases: true);
        var x = RandomInput(random, 2 * 3 * 4);
        var results = Run(BuildModel(layer, [2, 3, 4], 3, NodeAttribute.Int("k", 1)), x, [2, 3, 4]);
        using var logits = results["logits"];
        results["y"].Dispose();
        results["counts"].Dispose();
        Assert.Equal(new[] { 2, 3, 3 }, logits.Shape.ToArray());
        for (var t = 0; t < 6; t++)
            for (var e = 0; e < 3; e++)
            {
                double s = layer.RouterBias![e];
                for (var i = 0; i < 4; i++) s += layer.Router[e * 4 + i] * x[t * 4 + i];
                Assert.Equal(s, logits.As<float>().Span[t * 3 + e], 5);
            }
    }

    [Fact]
    public void A_minus_infinity_router_logit_masks_its_expert()
    {
        var random = new Random(5);
        var layer = RandomLayer(random, 3, 4, 5, biases: true);
        layer.RouterBias![1] = float.NegativeInfinity;
        var x = RandomInput(random, 6 * 4);
        var results = Run(BuildModel(layer, [6, 4], 2, NodeAttribute.Int("k", 2)), x, [6, 4]);
        using var y = results["y"];
        using var counts = results["counts"];
        Assert.Equal(new long[] { 6, 0, 6 }, counts.As<long>().Span.ToArray());
        Assert.All(y.As<float>().Span.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    /// <summary>
    /// Logits -200, -150, 0, -300: the top two are experts 2 and 1, though experts 0, 1 and 3 all have probability 0 in
    /// float32. Ranking by probability picked expert 0 (the lower index). The plain-ONNX expansion ranks the same way.
    /// </summary>
    [Fact]
    public void Top_k_follows_the_logits_where_probabilities_underflow_to_zero()
    {
        var layer = RandomLayer(new Random(7), 4, 4, 5, biases: true) with { Router = new float[16] };
        float[] bias = [-200f, -150f, 0f, -300f];
        bias.CopyTo(layer.RouterBias!, 0);
        var x = RandomInput(new Random(8), 6 * 4);
        var results = Run(BuildModel(layer, [6, 4], 2, NodeAttribute.Int("k", 2)), x, [6, 4]);
        using var counts = results["counts"];
        Assert.Equal(new long[] { 0, 6, 6, 0 }, counts.As<long>().Span.ToArray());
        results["y"].Dispose();

        var expanded = BuildModel(layer, [6, 4], 2, NodeAttribute.Int("k", 2));
        MixtureOfExperts.ExpandToStandardOnnx(expanded);
        using var ort = new Ort.InferenceSession(OnnxExporter.ToBytes(expanded));
        using var fromOrt = ort.Run([Ort.NamedOnnxValue.CreateFromTensor("x", new Ort.Tensors.DenseTensor<float>(x, [6, 4]))]);
        Assert.Equal(new long[] { 0, 6, 6, 0 }, fromOrt.Single(r => r.Name == "counts").AsTensor<long>().ToArray());
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void A_NaN_or_plus_infinity_router_logit_fails_naming_the_node_instead_of_routing_arbitrarily(float poison)
    {
        var random = new Random(6);
        var layer = RandomLayer(random, 4, 4, 5, biases: false);
        var x = RandomInput(random, 3 * 4);
        x[2 * 4 + 1] = poison; // token 2: every logit of it becomes NaN or ±inf
        using var session = new InferenceSession(BuildModel(layer, [3, 4], 1, NodeAttribute.Int("k", 1)), new SessionOptions { CheckInputs = false });
        var e = Assert.Throws<InferenceException>(() => session.Run(new Dictionary<string, Tensor> { ["x"] = Tensor<float>.FromArray(x, 3, 4) }));
        Assert.Contains("moe0", e.Message);
        Assert.Contains("token 2", e.Message);
        Assert.Contains("router logit", e.Message);
    }

    [Fact]
    public void Bad_shapes_and_attributes_are_reported()
    {
        var random = new Random(1);
        var layer = RandomLayer(random, 3, 4, 5, biases: false);
        var x = RandomInput(random, 8);
        var tooMany = Assert.ThrowsAny<Exception>(() => Run(BuildModel(layer, [2, 4], 1, NodeAttribute.Int("k", 4)), x, [2, 4]));
        Assert.Contains("exceeds the number of experts", tooMany.ToString());
        var activation = Assert.ThrowsAny<Exception>(() => Run(BuildModel(layer, [2, 4], 1, NodeAttribute.String("activation", "swish")), x, [2, 4]));
        Assert.Contains("is not supported", activation.ToString());
    }

    [Fact]
    public void Describe_counts_total_and_active_parameters()
    {
        var layer = RandomLayer(new Random(2), 8, 16, 32, biases: true);
        var info = Assert.Single(MixtureOfExperts.Describe(BuildModel(layer, [4, 16], 1, NodeAttribute.Int("k", 2))));
        long router = 8 * 16 + 8, expert = 2 * 16 * 32 + 32 + 16;
        Assert.Equal(router + 8 * expert, info.TotalParameters);
        Assert.Equal(router + 2 * expert, info.ActiveParametersPerToken);
        Assert.Equal((8, 2, 16, 32), (info.Experts, info.K, info.ModelDimension, info.HiddenDimension));
    }

    [Theory]
    [InlineData("gelu", true, 2, 1)]
    [InlineData("relu", false, 3, 1)]
    [InlineData("gelu", true, 4, 0)]
    public void Expanded_to_standard_onnx_it_runs_the_same_in_onnx_runtime(string activation, bool biases, int k, int gateWeighted)
    {
        var random = new Random(k * 10 + gateWeighted);
        var layer = RandomLayer(random, 4, 8, 12, biases);
        int[] shape = [2, 5, 8];
        var x = RandomInput(random, 80);
        var attributes = new[] { NodeAttribute.Int("k", k), NodeAttribute.String("activation", activation), NodeAttribute.Int("gate_weighted", gateWeighted) };
        var sparrow = Run(BuildModel(layer, shape, 3, attributes), x, shape);

        var expanded = BuildModel(layer, shape, 3, attributes);
        Assert.Equal(1, MixtureOfExperts.ExpandToStandardOnnx(expanded));
        Assert.DoesNotContain(expanded.Graph.Nodes, n => n.Domain == SparrowOps.Domain);
        using var ort = new Ort.InferenceSession(OnnxExporter.ToBytes(expanded));
        using var results = ort.Run([Ort.NamedOnnxValue.CreateFromTensor("x", new Ort.Tensors.DenseTensor<float>(x, shape))]);
        var y = results.Single(r => r.Name == "y").AsTensor<float>();
        Assert.Equal(shape, y.Dimensions.ToArray());
        AssertClose(sparrow["y"].As<float>().Span, y.ToArray(), 1e-5);
        Assert.Equal(sparrow["counts"].As<long>().Span.ToArray(), results.Single(r => r.Name == "counts").AsTensor<long>().ToArray());
        var logits = results.Single(r => r.Name == "logits").AsTensor<float>();
        Assert.Equal(new[] { 2, 5, 4 }, logits.Dimensions.ToArray());
        AssertClose(sparrow["logits"].As<float>().Span, logits.ToArray(), 1e-5);
        foreach (var t in sparrow.Values) t.Dispose();
    }

    [Fact]
    public void Expansion_refuses_capacity_dropping()
    {
        var layer = RandomLayer(new Random(4), 4, 8, 12, biases: true);
        var model = BuildModel(layer, [3, 8], 1, NodeAttribute.Float("capacity_factor", 1.25f));
        var error = Assert.Throws<NotSupportedException>(() => MixtureOfExperts.ExpandToStandardOnnx(model));
        Assert.Contains("capacity", error.Message);
    }
}
