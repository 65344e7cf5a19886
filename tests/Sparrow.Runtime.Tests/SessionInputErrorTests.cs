using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests;

/// <summary>Bad inputs to <see cref="InferenceSession.Run(IReadOnlyDictionary{string, Tensor})"/> get an error that names the input (or node) at fault.</summary>
public sealed class SessionInputErrorTests
{
    /// <summary>z = x + bias, with x float32 [batch, 3] and bias float32 [3]; plus m = x * scale with scale of unknown shape.</summary>
    private static InferenceSession CreateSession()
    {
        var graph = new ModelGraph { Name = "bias" };
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, [Dimension.Named("batch"), Dimension.Fixed(3)]));
        graph.Inputs.Add(new ValueInfo("bias", DataType.Float32, [Dimension.Fixed(3)]));
        graph.Inputs.Add(new ValueInfo("scale", DataType.Float32, null));
        graph.Nodes.Add(new Node("Add", ["x", "bias"], ["z"], name: "add_bias"));
        graph.Nodes.Add(new Node("Mul", ["z", "scale"], ["m"], name: "scale_it"));
        graph.Outputs.Add(new ValueInfo("m", DataType.Float32, null));
        return new InferenceSession(new Model(graph));
    }

    private static Dictionary<string, Tensor> GoodInputs() => new()
    {
        ["x"] = Tensor<float>.FromArray([1, 2, 3, 4, 5, 6], 2, 3),
        ["bias"] = Tensor<float>.FromArray([10, 20, 30], 3),
        ["scale"] = Tensor<float>.Scalar(2),
    };

    [Fact]
    public void Good_inputs_run()
    {
        using var session = CreateSession();
        var outputs = session.Run(GoodInputs());
        using var m = outputs["m"];
        Assert.Equal(new float[] { 22, 44, 66, 28, 50, 72 }, m.As<float>().ToArray());
    }

    [Fact]
    public void Unknown_input_name_is_named_with_the_real_inputs()
    {
        using var session = CreateSession();
        var inputs = GoodInputs();
        inputs["y"] = Tensor<float>.Scalar(1);
        var e = Assert.Throws<InferenceException>(() => session.Run(inputs));
        Assert.Contains("'y'", e.Message);
        Assert.Contains("x", e.Message);
    }

    [Fact]
    public void Missing_input_is_named()
    {
        using var session = CreateSession();
        var inputs = GoodInputs();
        inputs.Remove("bias");
        var e = Assert.Throws<InferenceException>(() => session.Run(inputs));
        Assert.Contains("'bias", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void Wrong_element_type_is_named_with_both_types()
    {
        using var session = CreateSession();
        var inputs = GoodInputs();
        inputs["x"] = Tensor<long>.FromArray([1, 2, 3, 4, 5, 6], 2, 3);
        var e = Assert.Throws<InferenceException>(() => session.Run(inputs));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("float32", e.Message);
        Assert.Contains("int64", e.Message);
    }

    [Theory]
    [InlineData(new[] { 2, 4 })]
    [InlineData(new[] { 6 })]
    [InlineData(new[] { 1, 2, 3 })]
    public void Wrong_shape_is_named_with_the_expected_shape(int[] shape)
    {
        using var session = CreateSession();
        var inputs = GoodInputs();
        inputs["x"] = Tensor<float>.Allocate(shape);
        var e = Assert.Throws<InferenceException>(() => session.Run(inputs));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("[batch,3]", e.Message);
        Assert.Contains(TensorShape.Format(shape), e.Message);
    }

    [Fact]
    public void Any_batch_size_fits_a_named_dimension()
    {
        using var session = CreateSession();
        var inputs = GoodInputs();
        inputs["x"] = Tensor<float>.Allocate([5, 3]);
        using var m = session.Run(inputs)["m"];
        Assert.Equal(new[] { 5, 3 }, m.Shape.ToArray());
    }

    [Fact]
    public void Shapes_that_do_not_broadcast_name_the_node_and_both_shapes()
    {
        using var session = CreateSession();
        var inputs = GoodInputs();
        inputs["scale"] = Tensor<float>.Allocate([4]);
        var e = Assert.Throws<InferenceException>(() => session.Run(inputs));
        Assert.Contains("scale_it", e.Message);
        Assert.Contains("[2,3]", e.Message);
        Assert.Contains("[4]", e.Message);
    }

    [Fact]
    public void Mixed_element_types_at_a_node_are_named()
    {
        var graph = new ModelGraph();
        graph.Inputs.Add(new ValueInfo("a", DataType.Undefined, null));
        graph.Inputs.Add(new ValueInfo("b", DataType.Undefined, null));
        graph.Nodes.Add(new Node("Sub", ["a", "b"], ["c"], name: "diff"));
        graph.Outputs.Add(new ValueInfo("c", DataType.Undefined, null));
        using var session = new InferenceSession(new Model(graph));
        var e = Assert.Throws<InferenceException>(() => session.Run(new Dictionary<string, Tensor>
        {
            ["a"] = Tensor<float>.Scalar(1),
            ["b"] = Tensor<int>.Scalar(1),
        }));
        Assert.Contains("diff", e.Message);
        Assert.Contains("float32", e.Message);
        Assert.Contains("int32", e.Message);
    }
}
