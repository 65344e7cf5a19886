using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests.Reliability;

/// <summary>
/// Operators whose output size comes from the graph's own values (ConstantOfShape, Expand, Tile, broadcasting) refuse a
/// tensor over <see cref="SessionOptions.MaxTensorBytes"/> before allocating it: at session creation when constant
/// folding would make it, at Run otherwise, naming the node and the shape.
/// </summary>
public sealed class TensorLimitTests
{
    /// <summary>100000 x 100000 x 100 float32: 4 TB, far over the 4 GiB default (and over what one tensor can hold).</summary>
    private static readonly long[] Huge = [100_000, 100_000, 100];

    private static SessionOptions Options(long? maxTensorBytes = null)
    {
        var options = new SessionOptions { UseKernelCache = false, IntraOpThreads = 1 };
        if (maxTensorBytes is { } m) options.MaxTensorBytes = m;
        return options;
    }

    /// <summary>One node <paramref name="opType"/> named "grow" whose second (or only) input is a shape-like int64 tensor, constant or a graph input.</summary>
    private static Model Model(string opType, long[] shapeValues, bool constantShape, Tensor? data = null)
    {
        var graph = new ModelGraph();
        var shape = Tensor<long>.FromArray(shapeValues, shapeValues.Length);
        if (constantShape) graph.Initializers["shape"] = shape;
        else graph.Inputs.Add(new ValueInfo("shape", DataType.Int64, [Dimension.Fixed(shapeValues.Length)]));
        var inputs = new List<string>();
        if (data is not null)
        {
            graph.Inputs.Add(new ValueInfo("x", data.ElementType, data.Shape.ToArray().Select(d => Dimension.Fixed(d)).ToArray()));
            inputs.Add("x");
        }
        inputs.Add("shape");
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Nodes.Add(new Node(opType, inputs, ["y"], "grow"));
        return new Model(graph);
    }

    private static Dictionary<string, Tensor> Feeds(long[] shapeValues, Tensor? data = null)
    {
        var feeds = new Dictionary<string, Tensor> { ["shape"] = Tensor<long>.FromArray(shapeValues, shapeValues.Length) };
        if (data is not null) feeds["x"] = data;
        return feeds;
    }

    private static void AssertNamesNodeAndShape(Exception e, long[] shape)
    {
        Assert.Contains("'grow'", e.Message);
        Assert.Contains("[" + string.Join(",", shape) + "]", e.Message);
        Assert.Contains("MaxTensorBytes", e.Message);
    }

    [Fact]
    public void ConstantOfShape_with_a_huge_constant_shape_fails_at_session_creation()
    {
        var e = Assert.Throws<ModelException>(() => new InferenceSession(Model("ConstantOfShape", Huge, constantShape: true), Options()));
        AssertNamesNodeAndShape(e, Huge);
    }

    [Fact]
    public void ConstantOfShape_with_a_huge_shape_input_fails_at_run()
    {
        using var session = new InferenceSession(Model("ConstantOfShape", Huge, constantShape: false), Options());
        var e = Assert.Throws<InferenceException>(() => session.Run(Feeds(Huge)));
        AssertNamesNodeAndShape(e, Huge);
        // The same session still answers a sensible request.
        var outputs = session.Run(Feeds([2, 3, 1]));
        using var y = outputs["y"];
        Assert.Equal(new[] { 2, 3, 1 }, y.Shape.ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Expand_to_a_huge_shape_fails_before_allocating(bool constantShape)
    {
        var x = Tensor<float>.FromArray([1f, 2f], 2);
        long[] shape = [100_000, 100_000, 2];
        var model = Model("Expand", shape, constantShape, x);
        if (constantShape)
        {
            // x is a graph input, so nothing folds: the limit holds at Run.
            model.Graph.Initializers["x"] = x;
            model.Graph.Inputs.RemoveAll(i => i.Name == "x");
            var created = Assert.Throws<ModelException>(() => new InferenceSession(model, Options()));
            AssertNamesNodeAndShape(created, shape);
            return;
        }
        using var session = new InferenceSession(model, Options());
        var e = Assert.Throws<InferenceException>(() => session.Run(Feeds(shape, x)));
        AssertNamesNodeAndShape(e, shape);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Tile_with_huge_repeats_fails_before_allocating(bool constantRepeats)
    {
        var x = Tensor<float>.FromArray([1f, 2f, 3f, 4f], 2, 2);
        long[] repeats = [1L << 40, 1L << 40];
        long[] requested = [2L << 40, 2L << 40];
        var model = Model("Tile", repeats, constantRepeats, x);
        if (constantRepeats)
        {
            model.Graph.Initializers["x"] = x;
            model.Graph.Inputs.RemoveAll(i => i.Name == "x");
            AssertNamesNodeAndShape(Assert.Throws<ModelException>(() => new InferenceSession(model, Options())), requested);
            return;
        }
        using var session = new InferenceSession(model, Options());
        AssertNamesNodeAndShape(Assert.Throws<InferenceException>(() => session.Run(Feeds(repeats, x))), requested);
    }

    [Fact]
    public void The_limit_is_an_option_and_counts_bytes_of_the_element_type()
    {
        // 16 x 16 float32 = 1024 bytes: exactly at a 1 KiB limit is allowed, one more row is not.
        using var session = new InferenceSession(Model("ConstantOfShape", [16, 16], constantShape: false), Options(1024));
        using (var ok = session.Run(Feeds([16, 16]))["y"]) Assert.Equal(256, ok.Length);
        AssertNamesNodeAndShape(Assert.Throws<InferenceException>(() => session.Run(Feeds([17, 16]))), [17, 16]);
        // An empty tensor costs nothing, whatever its other dimensions.
        using (var empty = session.Run(Feeds([0, 1L << 30]))["y"]) Assert.Equal(0, empty.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => new SessionOptions { MaxTensorBytes = 0 });
        Assert.Equal(4L << 30, new SessionOptions().MaxTensorBytes);
    }

    [Fact]
    public void Broadcasting_two_small_inputs_into_a_large_output_is_bounded_too()
    {
        var graph = new ModelGraph();
        graph.Inputs.Add(new ValueInfo("a", DataType.Float32, [Dimension.Fixed(64), Dimension.Fixed(1)]));
        graph.Inputs.Add(new ValueInfo("b", DataType.Float32, [Dimension.Fixed(1), Dimension.Fixed(64)]));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, null));
        graph.Nodes.Add(new Node("Add", ["a", "b"], ["y"], "grow"));
        using var session = new InferenceSession(new Model(graph), Options(64 * 64 * 4 - 1));
        var feeds = new Dictionary<string, Tensor> { ["a"] = Tensor<float>.Allocate([64, 1]), ["b"] = Tensor<float>.Allocate([1, 64]) };
        AssertNamesNodeAndShape(Assert.Throws<InferenceException>(() => session.Run(feeds)), [64, 64]);
    }

    [Fact]
    public void A_constant_too_large_to_fold_but_within_the_limit_runs_at_run_time()
    {
        // 2048 x 1024 = 2M elements: over the folding size, under the limit; left unfolded (no allocation at creation).
        using var session = new InferenceSession(Model("ConstantOfShape", [2048, 1024], constantShape: true), Options());
        Assert.Contains(session.ExecutionOrder, n => n.OpType == "ConstantOfShape");
        using var y = session.Run(new Dictionary<string, Tensor>())["y"];
        Assert.Equal(new[] { 2048, 1024 }, y.Shape.ToArray());
        Assert.All(y.As<float>().ToArray(), v => Assert.Equal(0f, v));
    }
}
