using Sparrow.Graph;
using Sparrow.Graph.Passes;
using Sparrow.Tensors;

namespace Sparrow.Graph.Tests.Passes;

public class LayerNormFusionTests
{
    /// <summary>The knobs of the decomposed pattern; the defaults spell it the way all-MiniLM-L6-v2 does.</summary>
    internal sealed record Spelling
    {
        public long Opset { get; init; } = 13;
        public long Axis { get; init; } = -1;
        public long KeepDims { get; init; } = 1;
        public bool SquareAsMul { get; init; }
        public float Exponent { get; init; } = 2f;
        public float Epsilon { get; init; } = 1e-12f;
        public bool EpsilonAfterSqrt { get; init; }
        public bool EpsilonFirst { get; init; }
        public bool ScaleFirst { get; init; }
        public bool GammaIsGraphInput { get; init; }
        public bool WithScaleAndBias { get; init; } = true;
        public bool WithBias { get; init; } = true;
        public int GammaLength { get; init; } = 8;
        public bool KnownShape { get; init; } = true;
        public string? ExtraReaderOf { get; init; }
    }

    /// <summary>x [batch, 5, 8] through the decomposed layer norm; returns the graph and the names of its parts.</summary>
    internal static (PassTestGraph Graph, Dictionary<string, string> Parts) Build(Spelling s)
    {
        var g = new PassTestGraph(s.Opset);
        var x = s.KnownShape ? g.Input("x", DataType.Float32, "batch", 5, 8) : g.InputOfUnknownRank("x");
        NodeAttribute[] Reduce(out string[] extraInputs)
        {
            var attributes = new List<NodeAttribute>();
            if (s.KeepDims != 1) attributes.Add(NodeAttribute.Int("keepdims", s.KeepDims));
            if (s.Opset >= 18)
            {
                extraInputs = new[] { g.Longs(s.Axis) };
            }
            else
            {
                extraInputs = Array.Empty<string>();
                attributes.Add(NodeAttribute.Ints("axes", new[] { s.Axis }));
            }
            return attributes.ToArray();
        }
        var parts = new Dictionary<string, string>();
        var meanAttributes = Reduce(out var meanAxes);
        var mean = parts["mean"] = g.Node("ReduceMean", new[] { x }.Concat(meanAxes).ToArray(), meanAttributes);
        var d = parts["d"] = g.Node("Sub", x, mean);
        var squared = parts["squared"] = s.SquareAsMul ? g.Node("Mul", d, d) : g.Node("Pow", d, g.Scalar(s.Exponent));
        var varAttributes = Reduce(out var varAxes);
        var variance = parts["variance"] = g.Node("ReduceMean", new[] { squared }.Concat(varAxes).ToArray(), varAttributes);
        var eps = g.Scalar(s.Epsilon);
        string std;
        if (s.EpsilonAfterSqrt)
        {
            var root = g.Node("Sqrt", variance);
            std = g.Node("Add", root, eps);
        }
        else
        {
            var shifted = parts["shifted"] = s.EpsilonFirst ? g.Node("Add", eps, variance) : g.Node("Add", variance, eps);
            std = g.Node("Sqrt", shifted);
        }
        parts["std"] = std;
        var normalized = parts["normalized"] = g.Node("Div", d, std);
        var output = normalized;
        if (s.WithScaleAndBias)
        {
            var gamma = s.GammaIsGraphInput ? g.Input("gamma", DataType.Float32, s.GammaLength) : g.Random(1, s.GammaLength);
            output = parts["scaled"] = s.ScaleFirst ? g.Node("Mul", gamma, normalized) : g.Node("Mul", normalized, gamma);
            if (s.WithBias) output = g.Node("Add", output, g.Random(2, s.GammaLength));
        }
        g.Output(output);
        parts["output"] = output;
        if (s.ExtraReaderOf is { } name) g.Output(g.Node("Neg", parts[name]));
        return (g, parts);
    }

    private static int Fuse(PassTestGraph g) => Fusions.Apply(g.Model).LayerNorms;

    [Theory]
    [InlineData(13, false, false, false)]
    [InlineData(18, false, false, false)]
    [InlineData(13, true, false, false)]
    [InlineData(13, false, true, true)]
    [InlineData(18, true, true, true)]
    public void Fuses_the_decomposed_pattern(long opset, bool squareAsMul, bool epsilonFirst, bool scaleFirst)
    {
        var (g, parts) = Build(new Spelling { Opset = opset, SquareAsMul = squareAsMul, EpsilonFirst = epsilonFirst, ScaleFirst = scaleFirst });
        Assert.Equal(1, Fuse(g));
        var ln = g.Single("LayerNormalization");
        Assert.Equal("x", ln.Inputs[0]);
        Assert.Equal(3, ln.Inputs.Count);
        Assert.Equal(parts["output"], ln.Outputs.Single());
        Assert.Equal(-1, ln.GetInt("axis", 0));
        Assert.Equal(1e-12f, ln.GetFloat("epsilon", 0));
        Assert.Single(g.Graph.Nodes);
        // Scale and bias are the pattern's constants, in that order.
        Assert.Equal(8, g.Graph.Initializers[ln.Inputs[1]].Length);
        Assert.Equal(8, g.Graph.Initializers[ln.Inputs[2]].Length);
    }

    [Fact]
    public void Fuses_a_last_axis_given_as_a_positive_number_when_the_rank_is_known()
    {
        var (g, _) = Build(new Spelling { Axis = 2 });
        Assert.Equal(1, Fuse(g));
    }

    [Fact]
    public void Fuses_without_scale_and_bias_when_the_width_is_known()
    {
        var (g, _) = Build(new Spelling { WithScaleAndBias = false, Epsilon = 1e-5f });
        Assert.Equal(1, Fuse(g));
        var ln = g.Single("LayerNormalization");
        Assert.Equal(2, ln.Inputs.Count);
        Assert.Equal(new float[] { 1, 1, 1, 1, 1, 1, 1, 1 }, g.Graph.Initializers[ln.Inputs[1]].As<float>().ToArray());
        Assert.Equal(1e-5f, ln.GetFloat("epsilon", 0));
    }

    [Fact]
    public void Fuses_scale_without_bias()
    {
        var (g, parts) = Build(new Spelling { WithBias = false });
        Assert.Equal(1, Fuse(g));
        var ln = g.Single("LayerNormalization");
        Assert.Equal(2, ln.Inputs.Count);
        Assert.Equal(parts["scaled"], ln.Outputs.Single());
    }

    [Fact]
    public void Fuses_constants_that_are_still_constant_nodes()
    {
        var (g, _) = Build(new Spelling());
        // Turn every scalar initializer into a Constant node, as an unfolded export has them.
        foreach (var (name, tensor) in g.Graph.Initializers.Where(kv => kv.Value.Rank == 0).ToArray())
        {
            g.Graph.Initializers.Remove(name);
            var constant = new Node("Constant", Array.Empty<string>(), new[] { name });
            constant.SetAttribute(NodeAttribute.TensorValue("value", tensor));
            g.Graph.Nodes.Insert(0, constant);
        }
        Assert.Equal(1, Fuse(g));
        // The Constant nodes that only fed the pattern went with it.
        Assert.Single(g.Graph.Nodes);
    }

    [Fact]
    public void Does_not_fuse_when_epsilon_is_added_after_the_square_root() =>
        Assert.Equal(0, Fuse(Build(new Spelling { EpsilonAfterSqrt = true }).Graph));

    [Theory]
    [InlineData("mean")]
    [InlineData("d")]
    [InlineData("squared")]
    [InlineData("variance")]
    [InlineData("shifted")]
    [InlineData("std")]
    public void Does_not_fuse_when_an_intermediate_has_another_reader(string intermediate)
    {
        var (g, _) = Build(new Spelling { ExtraReaderOf = intermediate });
        Assert.Equal(0, Fuse(g));
        Assert.Equal(0, g.Count("LayerNormalization"));
    }

    [Fact]
    public void Fuses_only_the_core_when_the_normalized_value_has_another_reader()
    {
        var (g, parts) = Build(new Spelling { ExtraReaderOf = "normalized" });
        Assert.Equal(1, Fuse(g));
        // The normalized value is still needed, so it is the fused node's output (with a ones scale) and
        // the scale and bias stay as they were.
        Assert.Equal(parts["normalized"], g.Single("LayerNormalization").Outputs.Single());
        Assert.Equal(1, g.Count("Mul"));
        Assert.Equal(1, g.Count("Add"));
    }

    [Fact]
    public void Does_not_fold_scale_and_bias_that_another_node_reads_but_fuses_the_core()
    {
        var (g, parts) = Build(new Spelling { ExtraReaderOf = "scaled" });
        Assert.Equal(1, Fuse(g));
        var ln = g.Single("LayerNormalization");
        // The scale alone is folded; the Add that reads the scaled value stays.
        Assert.Equal(parts["scaled"], ln.Outputs.Single());
        Assert.Equal(1, g.Count("Add"));
    }

    [Fact]
    public void Does_not_fuse_an_intermediate_that_is_a_graph_output()
    {
        var (g, parts) = Build(new Spelling());
        g.Output(parts["d"]);
        Assert.Equal(0, Fuse(g));
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(-2L)]
    [InlineData(0L)]
    public void Does_not_fuse_a_reduction_over_another_axis(long axis) =>
        Assert.Equal(0, Fuse(Build(new Spelling { Axis = axis }).Graph));

    [Fact]
    public void Does_not_fuse_a_positive_last_axis_when_the_rank_is_unknown() =>
        Assert.Equal(0, Fuse(Build(new Spelling { Axis = 2, KnownShape = false }).Graph));

    [Fact]
    public void Fuses_axis_minus_one_even_when_the_rank_is_unknown() =>
        Assert.Equal(1, Fuse(Build(new Spelling { KnownShape = false }).Graph));

    [Fact]
    public void Does_not_fuse_without_keepdims() =>
        Assert.Equal(0, Fuse(Build(new Spelling { KeepDims = 0 }).Graph));

    [Fact]
    public void Does_not_fuse_another_exponent() =>
        Assert.Equal(0, Fuse(Build(new Spelling { Exponent = 3f }).Graph));

    [Fact]
    public void Does_not_fold_a_scale_that_is_not_constant()
    {
        var (g, parts) = Build(new Spelling { GammaIsGraphInput = true });
        Assert.Equal(1, Fuse(g));
        // The core is fused with a ones scale; the Mul by the graph-input gamma and the Add stay outside.
        var ln = g.Single("LayerNormalization");
        Assert.Equal(parts["normalized"], ln.Outputs.Single());
        Assert.Equal(1, g.Count("Mul"));
    }

    [Fact]
    public void Does_not_fold_a_scale_of_the_wrong_width()
    {
        var (g, parts) = Build(new Spelling { GammaLength = 1 });
        Assert.Equal(1, Fuse(g));
        Assert.Equal(parts["normalized"], g.Single("LayerNormalization").Outputs.Single());
    }

    [Fact]
    public void Does_not_fuse_a_mean_that_is_subtracted_from_another_tensor()
    {
        var g = new PassTestGraph();
        var x = g.Input("x", DataType.Float32, 2, 8);
        var y = g.Input("y", DataType.Float32, 2, 8);
        var mean = g.Node("ReduceMean", new[] { x }, NodeAttribute.Ints("axes", new[] { -1L }));
        var d = g.Node("Sub", y, mean);
        var v = g.Node("ReduceMean", new[] { g.Node("Pow", d, g.Scalar(2)) }, NodeAttribute.Ints("axes", new[] { -1L }));
        g.Output(g.Node("Div", d, g.Node("Sqrt", g.Node("Add", v, g.Scalar(1e-5f)))));
        Assert.Equal(0, Fusions.Apply(g.Model).LayerNorms);
    }
}
