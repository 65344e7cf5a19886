using Sparrow.Graph;
using Sparrow.Graph.Passes;
using Sparrow.Tensors;

namespace Sparrow.Graph.Tests.Passes;

public class ShapeInferenceTests
{
    private static string Format(IReadOnlyDictionary<string, ValueInfo> shapes, string name) =>
        shapes.TryGetValue(name, out var info) && info.Shape is { } shape ? "[" + string.Join(",", shape) + "]" : "unknown";

    private static IReadOnlyDictionary<string, ValueInfo> Infer(PassTestGraph g) => ShapeInference.Infer(g.Model);

    [Fact]
    public void Broadcasting_keeps_symbols_and_takes_fixed_over_one()
    {
        var g = new PassTestGraph();
        var a = g.Input("a", DataType.Float32, "batch", 1, 8);
        var b = g.Input("b", DataType.Float32, 5, 1);
        var c = g.Input("c", DataType.Float32, "n", 8);
        var sum = g.Node("Add", a, b);
        var unknown = g.Node("Mul", c, g.Input("d", DataType.Float32, "m", 8));
        var compare = g.Node("Less", a, b);
        var shapes = Infer(g);
        Assert.Equal("[batch,5,8]", Format(shapes, sum));
        Assert.Equal("[?,8]", Format(shapes, unknown));
        Assert.Equal(DataType.Bool, shapes[compare].ElementType);
        Assert.Equal(DataType.Float32, shapes[sum].ElementType);
    }

    [Theory]
    [InlineData(new object[] { "b", 3, 4 }, new object[] { 4, 5 }, "[b,3,5]")]
    [InlineData(new object[] { 4 }, new object[] { 4, 5 }, "[5]")]
    [InlineData(new object[] { 2, 3, 4 }, new object[] { 4 }, "[2,3]")]
    [InlineData(new object[] { 2, 1, 3, 4 }, new object[] { 7, 4, 5 }, "[2,7,3,5]")]
    public void MatMul_follows_numpy(object[] a, object[] b, string expected)
    {
        var g = new PassTestGraph();
        var y = g.Node("MatMul", g.Input("a", DataType.Float32, a), g.Input("b", DataType.Float32, b));
        Assert.Equal(expected, Format(Infer(g), y));
    }

    [Theory]
    [InlineData(0, 0, "[3,5]")]
    [InlineData(1, 0, "[4,5]")]
    [InlineData(1, 1, "[4,6]")]
    public void Gemm_honours_transposes(long transA, long transB, string expected)
    {
        var g = new PassTestGraph();
        var a = transA == 0 ? g.Input("a", DataType.Float32, 3, 4) : g.Input("a", DataType.Float32, 4, 4);
        var b = transB == 0 ? g.Random(1, 4, 5) : g.Random(1, 6, 4);
        var y = g.Node("Gemm", new[] { a, b }, NodeAttribute.Int("transA", transA), NodeAttribute.Int("transB", transB));
        Assert.Equal(expected, Format(Infer(g), y));
    }

    [Fact]
    public void Reshape_follows_a_target_computed_from_the_input_shape()
    {
        // The chain exporters emit: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
        var g = new PassTestGraph();
        var x = g.Input("x", DataType.Float32, "batch", "sequence", 384);
        var shape = g.Node("Shape", x);
        var batch = g.Node("Unsqueeze", new[] { g.Node("Gather", new[] { shape, g.Initializer(Tensor<long>.Scalar(0)) }) },
            NodeAttribute.Ints("axes", new[] { 0L }));
        var sequence = g.Node("Unsqueeze", new[] { g.Node("Gather", new[] { shape, g.Initializer(Tensor<long>.Scalar(1)) }) },
            NodeAttribute.Ints("axes", new[] { 0L }));
        var target = g.Node("Concat", new[] { batch, sequence, g.Longs(12), g.Longs(32) }, NodeAttribute.Int("axis", 0));
        var heads = g.Node("Reshape", x, target);
        var transposed = g.Node("Transpose", new[] { heads }, NodeAttribute.Ints("perm", new[] { 0L, 2, 1, 3 }));
        var shapes = Infer(g);
        Assert.Equal("[batch,sequence,12,32]", Format(shapes, heads));
        Assert.Equal("[batch,12,sequence,32]", Format(shapes, transposed));
        Assert.Equal(DataType.Int64, shapes[target].ElementType);
        Assert.Equal("[4]", Format(shapes, target));
    }

    [Theory]
    [InlineData(new long[] { 0, 0, -1 }, "[batch,sequence,384]")]
    [InlineData(new long[] { -1, 384 }, "[batch*sequence,384]")]
    [InlineData(new long[] { 0, -1, 64 }, "[batch,6*sequence,64]")]
    [InlineData(new long[] { 0, 0, 6, 64 }, "[batch,sequence,6,64]")]
    public void Reshape_resolves_zero_and_minus_one_symbolically(long[] target, string expected)
    {
        var g = new PassTestGraph();
        var y = g.Node("Reshape", g.Input("x", DataType.Float32, "batch", "sequence", 384), g.Longs(target));
        Assert.Equal(expected, Format(Infer(g), y));
    }

    [Fact]
    public void Flatten_and_reshape_back_cancel_symbols()
    {
        var g = new PassTestGraph();
        var x = g.Input("x", DataType.Float32, "batch", "sequence", 384);
        var flat = g.Node("Flatten", new[] { x }, NodeAttribute.Int("axis", 2));
        var shape = g.Node("Shape", x);
        var back = g.Node("Reshape", flat, shape);
        var shapes = Infer(g);
        Assert.Equal("[batch*sequence,384]", Format(shapes, flat));
        Assert.Equal("[batch,sequence,384]", Format(shapes, back));
    }

    [Theory]
    [InlineData(12)]
    [InlineData(13)]
    public void Unsqueeze_and_squeeze_read_axes_from_attribute_or_input(long opset)
    {
        var g = new PassTestGraph(opset);
        var x = g.Input("x", DataType.Float32, "batch", "sequence");
        string Axes(string op, string input, params long[] axes) => opset >= 13
            ? g.Node(op, input, g.Longs(axes))
            : g.Node(op, new[] { input }, NodeAttribute.Ints("axes", axes));
        var expanded = Axes("Unsqueeze", x, 1, -1);
        var squeezed = Axes("Squeeze", expanded, 1);
        var shapes = Infer(g);
        Assert.Equal("[batch,1,sequence,1]", Format(shapes, expanded));
        Assert.Equal("[batch,sequence,1]", Format(shapes, squeezed));
    }

    [Fact]
    public void Concat_adds_up_the_axis_and_agrees_on_the_rest()
    {
        var g = new PassTestGraph();
        var y = g.Node("Concat", new[] { g.Input("a", DataType.Float32, "b", 3), g.Input("b", DataType.Float32, "b", 5) }, NodeAttribute.Int("axis", -1));
        var z = g.Node("Concat", new[] { g.Input("c", DataType.Float32, "b", 3), g.Input("d", DataType.Float32, "n", 3) }, NodeAttribute.Int("axis", 0));
        var shapes = Infer(g);
        Assert.Equal("[b,8]", Format(shapes, y));
        Assert.Equal("[?,3]", Format(shapes, z));
    }

    [Fact]
    public void Slice_with_constants_and_with_a_symbolic_end()
    {
        var g = new PassTestGraph(13);
        var x = g.Input("x", DataType.Float32, 10, "sequence", 8);
        var cut = g.Node("Slice", x, g.Longs(1, 2), g.Longs(-1, long.MaxValue), g.Longs(0, 2), g.Longs(2, 3));
        var ids = g.Input("ids", DataType.Int64, "batch", "sequence");
        var length = g.Node("Unsqueeze", g.Node("Gather", g.Node("Shape", ids), g.Initializer(Tensor<long>.Scalar(1))), g.Longs(0));
        var positions = g.Node("Slice", g.Random(3, 1, 512), g.Longs(0), length, g.Longs(1), g.Longs(1));
        var reversed = g.Node("Slice", g.Input("r", DataType.Float32, 7), g.Longs(-1), g.Longs(long.MinValue), g.Longs(0), g.Longs(-1));
        var shapes = Infer(g);
        Assert.Equal("[4,sequence,2]", Format(shapes, cut));
        Assert.Equal("[1,sequence]", Format(shapes, positions));
        Assert.Equal("[7]", Format(shapes, reversed));
    }

    [Fact]
    public void Reductions_with_and_without_keepdims_and_axes_as_input()
    {
        var g = new PassTestGraph(18);
        var x = g.Input("x", DataType.Float32, "b", 4, 6);
        var mean = g.Node("ReduceMean", x, g.Longs(-1));
        var sum = g.Node("ReduceSum", new[] { x, g.Longs(0, 1) }, NodeAttribute.Int("keepdims", 0));
        var all = g.Node("ReduceMax", new[] { x }, NodeAttribute.Int("keepdims", 0));
        var argmax = g.Node("ArgMax", new[] { x }, NodeAttribute.Int("axis", 1));
        var shapes = Infer(g);
        Assert.Equal("[b,4,1]", Format(shapes, mean));
        Assert.Equal("[6]", Format(shapes, sum));
        Assert.Equal("[]", Format(shapes, all));
        Assert.Equal("[b,1,6]", Format(shapes, argmax));
        Assert.Equal(DataType.Int64, shapes[argmax].ElementType);
    }

    [Fact]
    public void Gather_where_equal_expand_cast_constant_of_shape()
    {
        var g = new PassTestGraph(13);
        var ids = g.Input("ids", DataType.Int64, "batch", "sequence");
        var embedded = g.Node("Gather", g.Random(1, 100, 16), ids);
        var mask = g.Node("Equal", ids, g.Initializer(Tensor<long>.Scalar(0)));
        var chosen = g.Node("Where", g.Node("Unsqueeze", mask, g.Longs(-1)), g.Scalar(0), embedded);
        var expanded = g.Node("Expand", g.Input("v", DataType.Float32, 1, 16), g.Node("Shape", embedded));
        var cast = g.Node("Cast", new[] { ids }, NodeAttribute.Int("to", (long)DataType.Float32));
        var zeros = g.Node("ConstantOfShape", new[] { g.Node("Shape", ids) },
            NodeAttribute.TensorValue("value", Tensor<long>.FromArray(new[] { 0L }, 1)));
        var shapes = Infer(g);
        Assert.Equal("[batch,sequence,16]", Format(shapes, embedded));
        Assert.Equal("[batch,sequence,16]", Format(shapes, chosen));
        Assert.Equal("[batch,sequence,16]", Format(shapes, expanded));
        Assert.Equal(DataType.Float32, shapes[cast].ElementType);
        Assert.Equal("[batch,sequence]", Format(shapes, zeros));
        Assert.Equal(DataType.Int64, shapes[zeros].ElementType);
    }

    [Fact]
    public void Convolution_and_pooling()
    {
        var g = new PassTestGraph(13);
        var x = g.Input("x", DataType.Float32, "n", 3, 32, 32);
        var conv = g.Node("Conv", new[] { x, g.Random(1, 8, 3, 3, 3) },
            NodeAttribute.Ints("pads", new long[] { 1, 1, 1, 1 }), NodeAttribute.Ints("strides", new long[] { 2, 2 }));
        var same = g.Node("Conv", new[] { x, g.Random(2, 4, 3, 5, 5) }, NodeAttribute.String("auto_pad", "SAME_UPPER"));
        var pool = g.Node("MaxPool", new[] { conv }, NodeAttribute.Ints("kernel_shape", new long[] { 3, 3 }), NodeAttribute.Ints("strides", new long[] { 2, 2 }));
        var ceil = g.Node("AveragePool", new[] { conv }, NodeAttribute.Ints("kernel_shape", new long[] { 3, 3 }),
            NodeAttribute.Ints("strides", new long[] { 2, 2 }), NodeAttribute.Int("ceil_mode", 1));
        var global = g.Node("GlobalAveragePool", pool);
        var norm = g.Node("BatchNormalization", conv, g.Random(3, 8), g.Random(4, 8), g.Random(5, 8), g.Random(6, 8));
        var flat = g.Node("Flatten", global);
        var shapes = Infer(g);
        Assert.Equal("[n,8,16,16]", Format(shapes, conv));
        Assert.Equal("[n,4,32,32]", Format(shapes, same));
        Assert.Equal("[n,8,7,7]", Format(shapes, pool));
        Assert.Equal("[n,8,8,8]", Format(shapes, ceil));
        Assert.Equal("[n,8,1,1]", Format(shapes, global));
        Assert.Equal("[n,8,16,16]", Format(shapes, norm));
        Assert.Equal("[n,8]", Format(shapes, flat));
    }

    [Fact]
    public void Layer_normalization_and_sparrow_operators()
    {
        var g = new PassTestGraph(17);
        var x = g.Input("x", DataType.Float32, "b", "s", 4);
        var linear = g.Node(SparrowOps.Linear, new[] { x, g.Random(1, 4, 10), g.Random(2, 10) }, null, SparrowOps.Domain);
        var gelu = g.Node(SparrowOps.Gelu, new[] { linear }, null, SparrowOps.Domain);
        var ln = new Node("LayerNormalization", new[] { gelu, g.Random(3, 10) }, new[] { "y", "mean", "inv" });
        g.Graph.Nodes.Add(ln);
        var shapes = Infer(g);
        Assert.Equal("[b,s,10]", Format(shapes, linear));
        Assert.Equal("[b,s,10]", Format(shapes, gelu));
        Assert.Equal("[b,s,10]", Format(shapes, "y"));
        Assert.Equal("[b,s,1]", Format(shapes, "mean"));
    }

    [Fact]
    public void Given_input_shapes_override_the_declared_ones()
    {
        var g = new PassTestGraph();
        var x = g.Input("x", DataType.Float32, "batch", "sequence", 384);
        var y = g.Node("Reshape", x, g.Longs(-1, 384));
        var shapes = ShapeInference.Infer(g.Model, new Dictionary<string, IReadOnlyList<Dimension>>
        {
            ["x"] = new[] { Dimension.Fixed(2), Dimension.Fixed(7), Dimension.Fixed(384) },
        });
        Assert.Equal("[14,384]", Format(shapes, y));
    }

    [Fact]
    public void Unknown_operators_and_inputs_stay_unknown_without_throwing()
    {
        var g = new PassTestGraph();
        var x = g.InputOfUnknownRank("x");
        var custom = g.Node("Frobnicate", new[] { x }, null, "com.example");
        var after = g.Node("Relu", custom);
        var reshape = g.Node("Reshape", g.Input("z", DataType.Float32, 2, 3), g.Input("shape", DataType.Int64, 3));
        var badAxis = g.Node("Transpose", new[] { g.Input("w", DataType.Float32, 2, 3) }, NodeAttribute.Ints("perm", new long[] { 0, 5 }));
        var shapes = Infer(g);
        Assert.Equal("unknown", Format(shapes, custom));
        Assert.Equal("unknown", Format(shapes, after));
        Assert.Equal("[?,?,?]", Format(shapes, reshape));
        Assert.Equal("unknown", Format(shapes, badAxis));
    }

    [Fact]
    public void Run_fills_value_infos_and_sharpens_outputs()
    {
        var g = new PassTestGraph();
        var x = g.Input("x", DataType.Float32, "batch", 4);
        var hidden = g.Node("Relu", g.Node("MatMul", x, g.Random(1, 4, 6)));
        g.Graph.Outputs.Add(new ValueInfo(hidden, DataType.Float32, new[] { Dimension.Named("batch"), Dimension.Named("width") }));
        ShapeInference.Run(g.Model);
        var intermediate = Assert.Single(g.Graph.ValueInfos);
        Assert.Equal("[batch,6]", "[" + string.Join(",", intermediate.Shape!) + "]");
        Assert.Equal("[batch,6]", "[" + string.Join(",", g.Graph.Outputs.Single().Shape!) + "]");
        // Running again replaces rather than duplicates.
        ShapeInference.Run(g.Model);
        Assert.Single(g.Graph.ValueInfos);
    }

    [Fact]
    public void MiniLm_last_hidden_state_is_batch_by_sequence_by_384()
    {
        var model = Onnx.OnnxImporter.Load(Sparrow.Data.Models.DefaultModel.ReadOnnx());
        var shapes = ShapeInference.Infer(model);
        Assert.Equal("[batch,sequence,384]", Format(shapes, "last_hidden_state"));
        Assert.Equal("[batch,384]", Format(shapes, model.Graph.Outputs[1].Name));
        // Every node output gets a rank and no unknown dimension.
        foreach (var output in model.Graph.Nodes.SelectMany(n => n.Outputs))
            Assert.True(shapes.TryGetValue(output, out var info) && info.Shape is not null && info.Shape.All(d => d.IsFixed || d.Symbol is not null),
                $"'{output}' is {Format(shapes, output)}");

        var fixedShapes = ShapeInference.Infer(model, new Dictionary<string, IReadOnlyList<Dimension>>
        {
            ["input_ids"] = new[] { Dimension.Fixed(4), Dimension.Fixed(32) },
            ["attention_mask"] = new[] { Dimension.Fixed(4), Dimension.Fixed(32) },
            ["token_type_ids"] = new[] { Dimension.Fixed(4), Dimension.Fixed(32) },
        });
        Assert.Equal("[4,32,384]", Format(fixedShapes, "last_hidden_state"));
    }
}
