using Sparrow.Graph;
using Sparrow.Graph.Passes;
using Sparrow.Tensors;

namespace Sparrow.Graph.Tests.Passes;

public class GeluFusionTests
{
    /// <summary>How the exporter spelled x·0.5·(1 + erf(x/√2)).</summary>
    public enum HalfPlacement
    {
        /// <summary>Mul(Mul(x, s), 0.5): BERT exports, all-MiniLM-L6-v2.</summary>
        AfterProduct,

        /// <summary>Mul(x, Mul(s, 0.5)).</summary>
        OnSum,

        /// <summary>Mul(Mul(x, 0.5), s).</summary>
        OnInput,
    }

    internal sealed record Spelling
    {
        public bool DivideBySqrt2 { get; init; } = true;
        public float ScaleConstant { get; init; } = float.NaN;
        public float One { get; init; } = 1f;
        public float Half { get; init; } = 0.5f;
        public HalfPlacement Placement { get; init; }
        public bool SwapOperands { get; init; }
        public string? ExtraReaderOf { get; init; }
        public bool OtherTensorInProduct { get; init; }
    }

    internal static (PassTestGraph Graph, Dictionary<string, string> Parts) Build(Spelling s)
    {
        var g = new PassTestGraph();
        var x = g.Input("x", DataType.Float32, "batch", 16);
        var other = g.Input("other", DataType.Float32, "batch", 16);
        var parts = new Dictionary<string, string>();
        string Mul(string a, string b) => s.SwapOperands ? g.Node("Mul", b, a) : g.Node("Mul", a, b);
        var scaleConstant = float.IsNaN(s.ScaleConstant) ? (s.DivideBySqrt2 ? MathF.Sqrt(2) : 1 / MathF.Sqrt(2)) : s.ScaleConstant;
        var scaled = parts["scaled"] = s.DivideBySqrt2 ? g.Node("Div", x, g.Scalar(scaleConstant)) : Mul(x, g.Scalar(scaleConstant));
        var erf = parts["erf"] = g.Node("Erf", scaled);
        var sum = parts["sum"] = s.SwapOperands ? g.Node("Add", g.Scalar(s.One), erf) : g.Node("Add", erf, g.Scalar(s.One));
        var factor = s.OtherTensorInProduct ? other : x;
        string output;
        switch (s.Placement)
        {
            case HalfPlacement.AfterProduct:
                parts["product"] = Mul(factor, sum);
                output = Mul(parts["product"], g.Scalar(s.Half));
                break;
            case HalfPlacement.OnSum:
                parts["product"] = Mul(sum, g.Scalar(s.Half));
                output = Mul(factor, parts["product"]);
                break;
            default:
                parts["product"] = Mul(factor, g.Scalar(s.Half));
                output = Mul(parts["product"], sum);
                break;
        }
        g.Output(output);
        parts["output"] = output;
        if (s.ExtraReaderOf is { } name) g.Output(g.Node("Neg", parts[name]));
        return (g, parts);
    }

    public static TheoryData<bool, HalfPlacement, bool> AllSpellings()
    {
        var data = new TheoryData<bool, HalfPlacement, bool>();
        foreach (var divide in new[] { true, false })
            foreach (var placement in Enum.GetValues<HalfPlacement>())
                foreach (var swap in new[] { false, true })
                    data.Add(divide, placement, swap);
        return data;
    }

    [Theory]
    [MemberData(nameof(AllSpellings))]
    public void Fuses_every_exporter_spelling(bool divideBySqrt2, HalfPlacement placement, bool swapOperands)
    {
        var (g, parts) = Build(new Spelling { DivideBySqrt2 = divideBySqrt2, Placement = placement, SwapOperands = swapOperands });
        var counts = Fusions.Apply(g.Model);
        Assert.Equal(1, counts.Gelus);
        var gelu = g.Single(SparrowOps.Gelu, SparrowOps.Domain);
        Assert.Equal(new[] { "x" }, gelu.Inputs);
        Assert.Equal(new[] { parts["output"] }, gelu.Outputs);
        Assert.Single(g.Graph.Nodes);
    }

    [Fact]
    public void Fuses_the_onnx_function_expansion_with_a_two_input_sum()
    {
        // ONNX's expansion of Gelu (after constant folding): Mul(Mul(0.5, x), Sum(1, Erf(x / √2))).
        var g = new PassTestGraph(20);
        var x = g.Input("x", DataType.Float32, 3, 4);
        var phi = g.Node("Sum", g.Scalar(1), g.Node("Erf", g.Node("Div", x, g.Scalar(MathF.Sqrt(2)))));
        var y = g.Node("Mul", g.Node("Mul", g.Scalar(0.5f), x), phi);
        g.Output(y);
        Assert.Equal(1, Fusions.Apply(g.Model).Gelus);
        Assert.Equal(new[] { y }, g.Single(SparrowOps.Gelu, SparrowOps.Domain).Outputs);
    }

    [Fact]
    public void Accepts_sqrt2_written_with_more_digits() =>
        Assert.Equal(1, Fusions.Apply(Build(new Spelling { ScaleConstant = 1.41421356237f }).Graph.Model).Gelus);

    [Theory]
    [InlineData(true, 1.4142f)]
    [InlineData(true, 1.5f)]
    [InlineData(false, 0.7071f)]
    [InlineData(true, 2f)]
    public void Does_not_fuse_a_different_scale(bool divide, float constant) =>
        Assert.Equal(0, Fusions.Apply(Build(new Spelling { DivideBySqrt2 = divide, ScaleConstant = constant }).Graph.Model).Gelus);

    [Fact]
    public void Does_not_fuse_when_one_is_not_added() =>
        Assert.Equal(0, Fusions.Apply(Build(new Spelling { One = 2f }).Graph.Model).Gelus);

    [Theory]
    [InlineData(HalfPlacement.AfterProduct)]
    [InlineData(HalfPlacement.OnSum)]
    [InlineData(HalfPlacement.OnInput)]
    public void Does_not_fuse_a_factor_other_than_one_half(HalfPlacement placement) =>
        Assert.Equal(0, Fusions.Apply(Build(new Spelling { Half = 0.25f, Placement = placement }).Graph.Model).Gelus);

    [Theory]
    [InlineData(HalfPlacement.AfterProduct)]
    [InlineData(HalfPlacement.OnSum)]
    [InlineData(HalfPlacement.OnInput)]
    public void Does_not_fuse_when_the_product_is_with_another_tensor(HalfPlacement placement) =>
        Assert.Equal(0, Fusions.Apply(Build(new Spelling { OtherTensorInProduct = true, Placement = placement }).Graph.Model).Gelus);

    [Theory]
    [InlineData("scaled", HalfPlacement.AfterProduct)]
    [InlineData("erf", HalfPlacement.AfterProduct)]
    [InlineData("sum", HalfPlacement.AfterProduct)]
    [InlineData("product", HalfPlacement.AfterProduct)]
    [InlineData("product", HalfPlacement.OnSum)]
    [InlineData("product", HalfPlacement.OnInput)]
    public void Does_not_fuse_when_an_intermediate_has_another_reader(string intermediate, HalfPlacement placement)
    {
        var (g, _) = Build(new Spelling { ExtraReaderOf = intermediate, Placement = placement });
        Assert.Equal(0, Fusions.Apply(g.Model).Gelus);
        Assert.Equal(1, g.Count("Erf"));
    }

    [Fact]
    public void Does_not_fuse_a_scalar_that_would_widen_the_shape()
    {
        // A [1,1,1] "scalar" broadcast against x [batch,16] makes the result rank 3: not a plain GELU of x.
        var (g, _) = Build(new Spelling());
        var sqrt2 = g.Graph.Nodes.Single(n => n.OpType == "Div").Inputs[1];
        g.Graph.Initializers[sqrt2] = Tensor<float>.FromArray(new[] { MathF.Sqrt(2) }, 1, 1, 1);
        Assert.Equal(0, Fusions.Apply(g.Model).Gelus);
    }

    [Fact]
    public void Does_not_fuse_a_constant_that_a_caller_can_override()
    {
        var (g, _) = Build(new Spelling());
        var half = g.Graph.Nodes.Last().Inputs[1];
        g.Graph.Inputs.Add(new ValueInfo(half, DataType.Float32, Array.Empty<Dimension>()));
        Assert.Equal(0, Fusions.Apply(g.Model).Gelus);
    }
}
