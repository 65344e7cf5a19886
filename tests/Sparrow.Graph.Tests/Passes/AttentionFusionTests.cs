using Sparrow.Graph;
using Sparrow.Graph.Passes;
using Sparrow.Tensors;

namespace Sparrow.Graph.Tests.Passes;

public class AttentionFusionTests
{
    internal sealed record Spelling
    {
        public long[] QueryPerm { get; init; } = { 0, 2, 1, 3 };
        public long[] KeyPerm { get; init; } = { 0, 2, 3, 1 };
        public long[] OutputPerm { get; init; } = { 0, 2, 1, 3 };
        public long SoftmaxAxis { get; init; } = -1;
        public string Scale { get; init; } = "Div";
        public bool Mask { get; init; } = true;
        public bool MaskOfRank5 { get; init; }
        public bool ProbabilitiesAlsoOutput { get; init; }
        public long Opset { get; init; } = 13;
    }

    private static PassTestGraph Build(Spelling s)
    {
        var g = new PassTestGraph(s.Opset);
        var q = g.Input("q", DataType.Float32, "batch", "seq", 4, 8);
        var k = g.Input("k", DataType.Float32, "batch", "seq", 4, 8);
        var v = g.Input("v", DataType.Float32, "batch", "seq", 4, 8);
        var scores = g.Node("MatMul", g.Node("Transpose", new[] { q }, NodeAttribute.Ints("perm", s.QueryPerm)),
            g.Node("Transpose", new[] { k }, NodeAttribute.Ints("perm", s.KeyPerm)));
        scores = s.Scale switch
        {
            "Div" => g.Node("Div", scores, g.Scalar(2.828427f)),
            "Mul" => g.Node("Mul", g.Scalar(0.35355338f), scores),
            "DivByTensor" => g.Node("Div", scores, g.Input("divisor", DataType.Float32, "batch", 4, "seq", "seq")),
            _ => scores,
        };
        if (s.Mask)
            scores = g.Node("Add", scores, s.MaskOfRank5
                ? g.Input("mask", DataType.Float32, 1, "batch", 1, 1, "seq")
                : g.Input("mask", DataType.Float32, "batch", 1, 1, "seq"));
        var probabilities = g.Node("Softmax", new[] { scores }, NodeAttribute.Int("axis", s.SoftmaxAxis));
        if (s.ProbabilitiesAlsoOutput) g.Output(probabilities);
        var context = g.Node("MatMul", probabilities, g.Node("Transpose", new[] { v }, NodeAttribute.Ints("perm", new long[] { 0, 2, 1, 3 })));
        g.Output(g.Node("Transpose", new[] { context }, "y", "", NodeAttribute.Ints("perm", s.OutputPerm)));
        return g;
    }

    [Theory]
    [InlineData("Div")]
    [InlineData("Mul")]
    [InlineData("")]
    public void Fuses_the_bert_spelling_into_one_node(string scale)
    {
        var g = Build(new Spelling { Scale = scale });
        Assert.Equal(1, AttentionFusion.Run(g.Model));
        var attention = Assert.Single(g.Graph.Nodes);
        Assert.Equal((SparrowOps.Attention, SparrowOps.Domain), (attention.OpType, attention.Domain));
        Assert.Equal(new[] { "q", "k", "v", "mask" }, attention.Inputs);
        Assert.Equal(new[] { "y" }, attention.Outputs);
        Assert.Equal(scale == "Div" ? 2.828427f : float.NaN, attention.GetFloat(SparrowOps.DivisorAttribute, float.NaN));
        Assert.Equal(scale == "Mul" ? 0.35355338f : float.NaN, attention.GetFloat(SparrowOps.ScaleAttribute, float.NaN));
        Assert.Equal(new[] { "batch", "seq", "4", "8" }, ShapeInference.Infer(g.Model)["y"].Shape!.Select(d => d.ToString()).ToArray());
    }

    [Fact]
    public void Fuses_without_a_mask()
    {
        var g = Build(new Spelling { Mask = false });
        Assert.Equal(1, AttentionFusion.Run(g.Model));
        Assert.Equal(new[] { "q", "k", "v", "" }, g.Single(SparrowOps.Attention, SparrowOps.Domain).Inputs);
    }

    public static TheoryData<string> NearMisses() => new()
    {
        "query perm", "key perm", "output perm", "softmax axis", "old opset default axis", "tensor divisor", "mask of rank 5", "probabilities read elsewhere",
    };

    [Theory]
    [MemberData(nameof(NearMisses))]
    public void Leaves_near_misses_alone(string miss)
    {
        var spelling = miss switch
        {
            "query perm" => new Spelling { QueryPerm = new long[] { 0, 1, 2, 3 } },
            "key perm" => new Spelling { KeyPerm = new long[] { 0, 2, 1, 3 } },
            "output perm" => new Spelling { OutputPerm = new long[] { 0, 1, 2, 3 } },
            "softmax axis" => new Spelling { SoftmaxAxis = 2 },
            "old opset default axis" => new Spelling { Opset = 11, SoftmaxAxis = 1 },
            "tensor divisor" => new Spelling { Scale = "DivByTensor" },
            "mask of rank 5" => new Spelling { MaskOfRank5 = true },
            "probabilities read elsewhere" => new Spelling { ProbabilitiesAlsoOutput = true },
            _ => throw new ArgumentException(miss),
        };
        var g = Build(spelling);
        var count = g.Graph.Nodes.Count;
        Assert.Equal(0, AttentionFusion.Run(g.Model));
        Assert.Equal(count, g.Graph.Nodes.Count);
    }
}
