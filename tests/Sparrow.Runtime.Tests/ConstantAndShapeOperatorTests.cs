using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests;

/// <summary>Constant, ConstantOfShape, Shape and Identity, run through a session.</summary>
public sealed class ConstantAndShapeOperatorTests
{
    private static Tensor RunConstant(params NodeAttribute[] attributes) =>
        SingleNodeModel.Run("Constant", Array.Empty<(string, Tensor)>(), opset: 13, attributes);

    [Fact]
    public void Constant_value_tensor()
    {
        using var value = Tensor<int>.FromArray([1, 2, 3, 4], 2, 2);
        using var c = RunConstant(NodeAttribute.TensorValue("value", value));
        Assert.Equal(DataType.Int32, c.ElementType);
        Assert.Equal(new[] { 2, 2 }, c.Shape.ToArray());
        Assert.Equal(new[] { 1, 2, 3, 4 }, c.As<int>().ToArray());
    }

    [Fact]
    public void Constant_value_float_and_floats()
    {
        using var scalar = RunConstant(NodeAttribute.Float("value_float", 2.5f));
        Assert.Equal(0, scalar.Rank);
        Assert.Equal(2.5f, scalar.As<float>().Span[0]);
        using var vector = RunConstant(NodeAttribute.Floats("value_floats", [1f, -1f, 0.5f]));
        Assert.Equal(new[] { 3 }, vector.Shape.ToArray());
        Assert.Equal(new[] { 1f, -1f, 0.5f }, vector.As<float>().ToArray());
    }

    [Fact]
    public void Constant_value_int_and_ints_are_int64()
    {
        using var scalar = RunConstant(NodeAttribute.Int("value_int", -7));
        Assert.Equal(DataType.Int64, scalar.ElementType);
        Assert.Equal(0, scalar.Rank);
        Assert.Equal(-7L, scalar.As<long>().Span[0]);
        using var vector = RunConstant(NodeAttribute.Ints("value_ints", [1, 2]));
        Assert.Equal(new[] { 1L, 2L }, vector.As<long>().ToArray());
        using var empty = RunConstant(NodeAttribute.Ints("value_ints", []));
        Assert.Equal(new[] { 0 }, empty.Shape.ToArray());
    }

    [Theory]
    [InlineData("value_string")]
    [InlineData("value_strings")]
    [InlineData("sparse_value")]
    public void Constant_string_and_sparse_values_are_not_supported(string name)
    {
        var attribute = name switch
        {
            "value_string" => NodeAttribute.String(name, "hello"),
            "value_strings" => NodeAttribute.Strings(name, [[104, 105]]),
            _ => NodeAttribute.Int(name, 0),
        };
        var e = Assert.Throws<ModelException>(() => RunConstant(attribute));
        Assert.Contains("not supported", e.Message);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Constant_needs_exactly_one_value()
    {
        Assert.Throws<ModelException>(() => RunConstant());
        var e = Assert.Throws<ModelException>(() => RunConstant(NodeAttribute.Int("value_int", 1), NodeAttribute.Float("value_float", 1)));
        Assert.Contains("value_int", e.Message);
        Assert.Contains("value_float", e.Message);
    }

    [Fact]
    public void ConstantOfShape_defaults_to_float_zero()
    {
        using var shape = Tensor<long>.FromArray([2, 3], 2);
        using var c = SingleNodeModel.Run("ConstantOfShape", shape);
        Assert.Equal(DataType.Float32, c.ElementType);
        Assert.Equal(new[] { 2, 3 }, c.Shape.ToArray());
        Assert.All(c.As<float>().ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void ConstantOfShape_fills_with_the_value_and_its_type()
    {
        using var shape = Tensor<long>.FromArray([3, 1, 2], 3);
        using var value = Tensor<long>.FromArray([7], 1);
        using var c = SingleNodeModel.Run("ConstantOfShape", [("shape", (Tensor)shape)], opset: 20, NodeAttribute.TensorValue("value", value));
        Assert.Equal(DataType.Int64, c.ElementType);
        Assert.Equal(new[] { 3, 1, 2 }, c.Shape.ToArray());
        Assert.All(c.As<long>().ToArray(), v => Assert.Equal(7L, v));
    }

    [Fact]
    public void ConstantOfShape_of_an_empty_shape_is_a_scalar_and_a_zero_dimension_is_empty()
    {
        using var none = Tensor<long>.FromArray([], 0);
        using var value = Tensor<bool>.FromArray([true], 1);
        using var scalar = SingleNodeModel.Run("ConstantOfShape", [("shape", (Tensor)none)], attributes: NodeAttribute.TensorValue("value", value));
        Assert.Equal(0, scalar.Rank);
        Assert.True(scalar.As<bool>().Span[0]);
        using var zero = Tensor<long>.FromArray([4, 0], 2);
        using var empty = SingleNodeModel.Run("ConstantOfShape", zero);
        Assert.Equal(new[] { 4, 0 }, empty.Shape.ToArray());
    }

    [Fact]
    public void ConstantOfShape_rejects_a_negative_dimension_naming_the_input()
    {
        using var shape = Tensor<long>.FromArray([2, -1], 2);
        var e = Assert.Throws<InferenceException>(() => SingleNodeModel.Run("ConstantOfShape", shape));
        Assert.Contains("shape", e.Message);
        Assert.Contains("-1", e.Message);
    }

    [Fact]
    public void ConstantOfShape_rejects_a_shape_too_large_to_allocate()
    {
        using var shape = Tensor<long>.FromArray([1 << 20, 1 << 20], 2);
        // Refused against SessionOptions.MaxTensorBytes before anything is allocated.
        var e = Assert.Throws<InferenceException>(() => SingleNodeModel.Run("ConstantOfShape", shape));
        Assert.Contains("[1048576,1048576]", e.Message);
        Assert.Contains("MaxTensorBytes", e.Message);
    }

    [Fact]
    public void ConstantOfShape_value_must_have_one_element()
    {
        using var shape = Tensor<long>.FromArray([2], 1);
        using var value = Tensor<float>.FromArray([1, 2], 2);
        var e = Assert.Throws<ModelException>(() => SingleNodeModel.Run("ConstantOfShape", [("shape", (Tensor)shape)], attributes: NodeAttribute.TensorValue("value", value)));
        Assert.Contains("one element", e.Message);
    }

    [Theory]
    [InlineData(null, null, new long[] { 2, 3, 4, 5 })]
    [InlineData(1L, null, new long[] { 3, 4, 5 })]
    [InlineData(null, -1L, new long[] { 2, 3, 4 })]
    [InlineData(1L, 3L, new long[] { 3, 4 })]
    [InlineData(-10L, 10L, new long[] { 2, 3, 4, 5 })]
    [InlineData(3L, 1L, new long[0])]
    [InlineData(-1L, null, new long[] { 5 })]
    public void Shape_with_start_and_end(long? start, long? end, long[] expected)
    {
        using var x = Tensor<float>.Allocate([2, 3, 4, 5]);
        var attributes = new List<NodeAttribute>();
        if (start is { } s) attributes.Add(NodeAttribute.Int("start", s));
        if (end is { } e) attributes.Add(NodeAttribute.Int("end", e));
        using var shape = SingleNodeModel.Run("Shape", [("x", (Tensor)x)], opset: 15, attributes.ToArray());
        Assert.Equal(DataType.Int64, shape.ElementType);
        Assert.Equal(expected, shape.As<long>().ToArray());
    }

    [Fact]
    public void Shape_of_a_scalar_is_empty()
    {
        using var x = Tensor<bool>.Scalar(true);
        using var shape = SingleNodeModel.Run("Shape", x);
        Assert.Equal(new[] { 0 }, shape.Shape.ToArray());
    }

    [Fact]
    public void Identity_returns_a_view_the_caller_can_dispose_separately()
    {
        using var x = Tensor<float>.FromArray([1, 2, 3], 3);
        var y = SingleNodeModel.Run("Identity", x);
        Assert.NotSame(x, y);
        Assert.Equal(new float[] { 1, 2, 3 }, y.As<float>().ToArray());
        y.Dispose();
        Assert.Equal(new float[] { 1, 2, 3 }, x.ToArray());
    }

    [Fact]
    public void Identity_of_a_non_tensor_graph_input_is_not_supported()
    {
        var graph = new ModelGraph();
        graph.Inputs.Add(new ValueInfo("sequence", DataType.Undefined, null));
        graph.Nodes.Add(new Node("Identity", ["sequence"], ["out"]));
        graph.Outputs.Add(new ValueInfo("out", DataType.Undefined, null));
        var e = Assert.Throws<ModelException>(() => new InferenceSession(new Model(graph)));
        Assert.Contains("not supported", e.Message);
        Assert.Contains("'sequence'", e.Message);
    }
}
