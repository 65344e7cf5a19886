using Sparrow.Graph;
using Sparrow.Graph.Passes;
using Sparrow.Tensors;

namespace Sparrow.Graph.Tests.Passes;

public class LinearFusionTests
{
    private static (PassTestGraph Graph, string Product, string Output) MatMulAdd(bool biasFirst = false, int[]? biasShape = null, bool weightIsInput = false)
    {
        var g = new PassTestGraph();
        var x = g.Input("x", DataType.Float32, "batch", "sequence", 4);
        var w = weightIsInput ? g.Input("w", DataType.Float32, 4, 6) : g.Random(1, 4, 6);
        biasShape ??= new[] { 6 };
        var b = g.Random(2, biasShape);
        var product = g.Node("MatMul", x, w);
        var output = biasFirst ? g.Node("Add", b, product) : g.Node("Add", product, b);
        return (g, product, output);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fuses_matmul_and_bias_in_either_order(bool biasFirst)
    {
        var (g, _, output) = MatMulAdd(biasFirst);
        g.Output(output);
        var counts = Fusions.Apply(g.Model);
        Assert.Equal(1, counts.Linears);
        var linear = g.Single(SparrowOps.Linear, SparrowOps.Domain);
        Assert.Equal("x", linear.Inputs[0]);
        Assert.Equal(new[] { 4, 6 }, g.Graph.Initializers[linear.Inputs[1]].Shape.ToArray());
        Assert.Equal(new[] { 6 }, g.Graph.Initializers[linear.Inputs[2]].Shape.ToArray());
        Assert.Equal(new[] { output }, linear.Outputs);
        Assert.Equal("", linear.GetString(SparrowOps.ActivationAttribute, "missing"));
        Assert.Single(g.Graph.Nodes);
    }

    [Fact]
    public void Folds_a_relu_that_alone_reads_the_output()
    {
        var (g, _, output) = MatMulAdd();
        var relu = g.Node("Relu", output);
        g.Output(relu);
        var counts = Fusions.Apply(g.Model);
        Assert.Equal((1, 1), (counts.Linears, counts.ActivationsFolded));
        var linear = g.Single(SparrowOps.Linear, SparrowOps.Domain);
        Assert.Equal("Relu", linear.GetString(SparrowOps.ActivationAttribute, ""));
        Assert.Equal(new[] { relu }, linear.Outputs);
        Assert.Single(g.Graph.Nodes);
    }

    [Fact]
    public void Folds_a_gelu_fused_from_erf()
    {
        var (g, _, output) = MatMulAdd();
        var scaled = g.Node("Div", output, g.Scalar(MathF.Sqrt(2)));
        var sum = g.Node("Add", g.Node("Erf", scaled), g.Scalar(1));
        var gelu = g.Node("Mul", g.Node("Mul", output, sum), g.Scalar(0.5f));
        g.Output(gelu);
        var counts = Fusions.Apply(g.Model);
        Assert.Equal((1, 1, 1), (counts.Gelus, counts.Linears, counts.ActivationsFolded));
        var linear = g.Single(SparrowOps.Linear, SparrowOps.Domain);
        Assert.Equal("Gelu", linear.GetString(SparrowOps.ActivationAttribute, ""));
        Assert.Equal(new[] { gelu }, linear.Outputs);
        Assert.Single(g.Graph.Nodes);
    }

    [Theory]
    [InlineData("none", true)]
    [InlineData("tanh", false)]
    public void Folds_an_onnx_gelu_only_when_it_is_exact(string approximate, bool folds)
    {
        var (g, _, output) = MatMulAdd();
        g.Output(g.Node("Gelu", new[] { output }, NodeAttribute.String("approximate", approximate)));
        var counts = Fusions.Apply(g.Model);
        Assert.Equal(folds ? 1 : 0, counts.ActivationsFolded);
        Assert.Equal(folds ? 0 : 1, g.Count("Gelu"));
    }

    [Fact]
    public void Does_not_fold_an_activation_when_the_linear_output_has_another_reader()
    {
        var (g, _, output) = MatMulAdd();
        g.Output(g.Node("Relu", output));
        g.Output(g.Node("Neg", output));
        var counts = Fusions.Apply(g.Model);
        Assert.Equal((1, 0), (counts.Linears, counts.ActivationsFolded));
        Assert.Equal(1, g.Count("Relu"));
    }

    [Fact]
    public void Does_not_fold_an_activation_into_a_linear_whose_output_is_a_graph_output()
    {
        var (g, _, output) = MatMulAdd();
        g.Output(output);
        g.Output(g.Node("Relu", output));
        Assert.Equal(0, Fusions.Apply(g.Model).ActivationsFolded);
    }

    [Fact]
    public void Does_not_fuse_a_weight_that_is_not_constant()
    {
        var (g, _, output) = MatMulAdd(weightIsInput: true);
        g.Output(output);
        Assert.Equal(0, Fusions.Apply(g.Model).Linears);
        Assert.Equal(1, g.Count("MatMul"));
    }

    [Fact]
    public void Does_not_fuse_a_weight_that_a_graph_input_can_override()
    {
        var (g, _, output) = MatMulAdd();
        g.Output(output);
        var w = g.Graph.Nodes.Single(n => n.OpType == "MatMul").Inputs[1];
        g.Graph.Inputs.Add(new ValueInfo(w, DataType.Float32, new[] { Dimension.Fixed(4), Dimension.Fixed(6) }));
        Assert.Equal(0, Fusions.Apply(g.Model).Linears);
    }

    [Theory]
    [InlineData(1, 6)]
    [InlineData(5)]
    [InlineData(1)]
    public void Does_not_fuse_a_bias_that_is_not_a_vector_of_the_output_width(params int[] biasShape)
    {
        var (g, _, output) = MatMulAdd(biasShape: biasShape);
        g.Output(output);
        Assert.Equal(0, Fusions.Apply(g.Model).Linears);
    }

    [Fact]
    public void Does_not_fuse_when_the_product_has_another_reader()
    {
        var (g, product, output) = MatMulAdd();
        g.Output(output);
        g.Output(g.Node("Neg", product));
        Assert.Equal(0, Fusions.Apply(g.Model).Linears);
    }

    [Fact]
    public void Does_not_fuse_when_the_product_is_a_graph_output()
    {
        var (g, product, output) = MatMulAdd();
        g.Output(output);
        g.Output(product);
        Assert.Equal(0, Fusions.Apply(g.Model).Linears);
    }

    [Fact]
    public void Does_not_fuse_a_batched_weight()
    {
        var g = new PassTestGraph();
        var x = g.Input("x", DataType.Float32, 2, 3, 4);
        var output = g.Node("Add", g.Node("MatMul", x, g.Random(1, 2, 4, 6)), g.Random(2, 6));
        g.Output(output);
        Assert.Equal(0, Fusions.Apply(g.Model).Linears);
    }

    [Fact]
    public void Leaves_a_graph_without_patterns_alone()
    {
        var g = new PassTestGraph();
        var x = g.Input("x", DataType.Float32, 2, 4);
        g.Output(g.Node("Relu", g.Node("Sub", x, g.Scalar(1))));
        var before = g.Graph.Nodes.Select(n => n.OpType).ToArray();
        var counts = Fusions.Apply(g.Model);
        Assert.Equal(new FusionCounts(0, 0, 0, 0, 0), counts);
        Assert.Equal(before, g.Graph.Nodes.Select(n => n.OpType).ToArray());
    }
}
