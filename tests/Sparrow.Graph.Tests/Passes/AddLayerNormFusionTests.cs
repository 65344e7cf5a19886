using Sparrow.Graph;
using Sparrow.Graph.Passes;
using Sparrow.Tensors;

namespace Sparrow.Graph.Tests.Passes;

public class AddLayerNormFusionTests
{
    private static PassTestGraph Build(object?[] shapeA, object?[] shapeB, long axis = -1, bool sumAlsoOutput = false)
    {
        var g = new PassTestGraph(17);
        var sum = g.Node("Add", g.Input("a", DataType.Float32, shapeA), g.Input("b", DataType.Float32, shapeB));
        if (sumAlsoOutput) g.Output(sum);
        g.Output(g.Node("LayerNormalization", new[] { sum, g.Random(1, 8), g.Random(2, 8) }, "y", "",
            NodeAttribute.Int("axis", axis), NodeAttribute.Float("epsilon", 1e-6f)));
        return g;
    }

    [Fact]
    public void Fuses_a_same_shape_residual_add()
    {
        var g = Build(new object?[] { "batch", "seq", 8 }, new object?[] { "batch", "seq", 8 });
        Assert.Equal(1, AddLayerNormFusion.Run(g.Model));
        var fused = Assert.Single(g.Graph.Nodes);
        Assert.Equal((SparrowOps.AddLayerNormalization, SparrowOps.Domain), (fused.OpType, fused.Domain));
        Assert.Equal(new[] { "a", "b" }, fused.Inputs.Take(2));
        Assert.Equal(4, fused.Inputs.Count);
        Assert.Equal(1e-6f, fused.GetFloat("epsilon", 0));
        Assert.Equal(new[] { "batch", "seq", "8" }, ShapeInference.Infer(g.Model)["y"].Shape!.Select(d => d.ToString()).ToArray());
    }

    [Theory]
    [InlineData("broadcast")]
    [InlineData("unknown dimension")]
    [InlineData("axis 1")]
    [InlineData("sum read elsewhere")]
    public void Leaves_near_misses_alone(string miss)
    {
        var g = miss switch
        {
            "broadcast" => Build(new object?[] { "batch", "seq", 8 }, new object?[] { 1, "seq", 8 }),
            "unknown dimension" => Build(new object?[] { null, "seq", 8 }, new object?[] { null, "seq", 8 }),
            "axis 1" => Build(new object?[] { "batch", "seq", 8 }, new object?[] { "batch", "seq", 8 }, axis: 1),
            "sum read elsewhere" => Build(new object?[] { "batch", "seq", 8 }, new object?[] { "batch", "seq", 8 }, sumAlsoOutput: true),
            _ => throw new ArgumentException(miss),
        };
        Assert.Equal(0, AddLayerNormFusion.Run(g.Model));
        Assert.Equal(2, g.Graph.Nodes.Count);
    }
}
