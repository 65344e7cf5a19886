using Sparrow.Cli.Execution;
using Sparrow.Graph;
using Sparrow.Graph.Builders;
using Sparrow.Tensors;

namespace Sparrow.Cli.Tests;

public class ParameterGroupTests
{
    [Theory]
    [InlineData("encoder.layer.3.attention.self.query.bias", "encoder.layer.3")]
    [InlineData("embeddings.word_embeddings.weight", "embeddings.word_embeddings")]
    [InlineData("pooler.dense.weight", "pooler.dense")]
    [InlineData("conv1.weight", "conv1")]
    [InlineData("features.0.weight", "features.0")]
    [InlineData("model/dense_1/kernel", "model.dense_1")]
    [InlineData("fc_w", "fc_w")]
    public void Groups_by_name_prefix(string name, string group) => Assert.Equal(group, ParameterGroups.GroupOf(name));

    [Fact]
    public void Unnamed_weights_join_the_layer_of_the_bias_added_to_their_product()
    {
        var g = new ModelGraph();
        g.Inputs.Add(new ValueInfo("x", DataType.Float32, new[] { Dimension.Fixed(1), Dimension.Fixed(4) }));
        g.Initializers["927"] = Tensor<float>.Allocate(new[] { 4, 4 });
        g.Initializers["layer.0.dense.bias"] = Tensor<float>.Allocate(new[] { 4 });
        g.Initializers["928"] = Tensor<float>.Allocate(new[] { 4, 2 });
        g.Initializers["shape"] = Tensor<long>.FromArray(new long[] { 1, 2 }, 2);
        g.Nodes.Add(new Node("MatMul", new[] { "x", "927" }, new[] { "h" }));
        g.Nodes.Add(new Node("Add", new[] { "layer.0.dense.bias", "h" }, new[] { "y" }));
        g.Nodes.Add(new Node("MatMul", new[] { "y", "928" }, new[] { "z" }));
        var groups = ParameterGroups.Compute(g);
        Assert.Equal(new[] { ("layer.0", 2, 20L), (ParameterGroups.Unnamed, 1, 8L) }, groups.Select(x => (x.Name, x.Tensors, x.Parameters)));
        Assert.Equal(28, ParameterGroups.Total(g));
    }
}

public class FlopCounterTests
{
    private static long Count(Node node, Dictionary<string, int[]> shapes) => FlopCounter.Flops(node, shapes.GetValueOrDefault);

    [Fact]
    public void MatMul_is_two_flops_per_multiply_add_with_batch_broadcast()
    {
        var node = new Node("MatMul", new[] { "a", "b" }, new[] { "c" });
        Assert.Equal(2L * 3 * 4 * 5 * 6, Count(node, new() { ["a"] = new[] { 3, 4, 6 }, ["b"] = new[] { 6, 5 }, ["c"] = new[] { 3, 4, 5 } }));
        // A vector times a matrix.
        Assert.Equal(2L * 6 * 5, Count(node, new() { ["a"] = new[] { 6 }, ["b"] = new[] { 6, 5 }, ["c"] = new[] { 5 } }));
    }

    [Fact]
    public void Gemm_reads_transA()
    {
        var node = new Node("Gemm", new[] { "a", "b", "c" }, new[] { "y" });
        var shapes = new Dictionary<string, int[]> { ["a"] = new[] { 7, 3 }, ["b"] = new[] { 7, 5 }, ["y"] = new[] { 3, 5 } };
        node.SetAttribute(NodeAttribute.Int("transA", 1));
        Assert.Equal(2L * 3 * 5 * 7, Count(node, shapes));
    }

    [Fact]
    public void Conv_counts_input_channels_per_group_times_kernel()
    {
        var node = new Node("Conv", new[] { "x", "w" }, new[] { "y" });
        var shapes = new Dictionary<string, int[]> { ["x"] = new[] { 1, 8, 10, 10 }, ["w"] = new[] { 16, 4, 3, 3 }, ["y"] = new[] { 1, 16, 8, 8 } };
        Assert.Equal(2L * 16 * 64 * 4 * 9, Count(node, shapes));
    }

    [Fact]
    public void Unknown_shapes_and_other_ops_count_nothing()
    {
        Assert.Equal(0, Count(new Node("MatMul", new[] { "a", "b" }, new[] { "c" }), new()));
        Assert.Equal(0, Count(new Node("Add", new[] { "a", "b" }, new[] { "c" }), new() { ["a"] = new[] { 2 }, ["c"] = new[] { 2 } }));
    }
}

public class InputGeneratorTests
{
    /// <summary>ids → Cast → Gather(table[5, 3]); ids2 → Unsqueeze → Gather(table, axis 1) (bound 3); mask feeds only a Mul.</summary>
    private static Model IndexModel()
    {
        var g = new ModelGraph();
        g.Inputs.Add(new ValueInfo("ids", DataType.Int32, new[] { Dimension.Named("batch"), Dimension.Named("seq") }));
        g.Inputs.Add(new ValueInfo("ids2", DataType.Int64, new[] { Dimension.Named("seq") }));
        g.Inputs.Add(new ValueInfo("mask", DataType.Int64, new[] { Dimension.Named("batch"), Dimension.Named("seq") }));
        g.Inputs.Add(new ValueInfo("noise", DataType.Float32, new[] { Dimension.Unknown, Dimension.Fixed(3) }));
        g.Inputs.Add(new ValueInfo("flags", DataType.Bool, new[] { Dimension.Fixed(4) }));
        g.Initializers["table"] = Tensor<float>.Allocate(new[] { 5, 3 });
        g.Nodes.Add(new Node("Cast", new[] { "ids" }, new[] { "ids64" }) { Attributes = { NodeAttribute.Int("to", 7) } });
        g.Nodes.Add(new Node("Gather", new[] { "table", "ids64" }, new[] { "rows" }));
        g.Nodes.Add(new Node("Unsqueeze", new[] { "ids2" }, new[] { "ids2u" }) { Attributes = { NodeAttribute.Ints("axes", new long[] { 0 }) } });
        g.Nodes.Add(new Node("Gather", new[] { "table", "ids2u" }, new[] { "cols" }) { Attributes = { NodeAttribute.Int("axis", 1) } });
        g.Nodes.Add(new Node("Mul", new[] { "mask", "mask" }, new[] { "m2" }));
        g.Outputs.Add(new ValueInfo("rows", DataType.Float32, null));
        return new Model(g);
    }

    [Fact]
    public void Finds_index_bounds_through_cast_and_unsqueeze()
    {
        var bounds = InputGenerator.IndexBounds(IndexModel().Graph);
        Assert.Equal(5, bounds["ids"]);
        Assert.Equal(3, bounds["ids2"]);
        Assert.False(bounds.ContainsKey("mask"));
    }

    [Fact]
    public void Generates_values_in_range_and_dims_from_batch_and_seq()
    {
        var generator = new InputGenerator(IndexModel(), batch: 3, sequence: 50);
        var inputs = generator.Generate(seed: 1);
        Assert.Equal(new[] { 3, 50 }, inputs["ids"].Shape.ToArray());
        // "seq" was named by ids first; ids2's only dimension keeps that size.
        Assert.Equal(new[] { 50 }, inputs["ids2"].Shape.ToArray());
        Assert.Equal(new[] { 3, 3 }, inputs["noise"].Shape.ToArray());
        Assert.Equal(new[] { 4 }, inputs["flags"].Shape.ToArray());
        var ids = ((Tensor<int>)inputs["ids"]).ToArray();
        Assert.All(ids, v => Assert.InRange(v, 0, 4));
        Assert.Equal(5, ids.Distinct().Count());
        Assert.All(((Tensor<long>)inputs["ids2"]).ToArray(), v => Assert.InRange(v, 0, 2));
        var mask = ((Tensor<long>)inputs["mask"]).ToArray();
        Assert.Equal(new long[] { 0, 1 }, mask.Distinct().Order());
        var noise = ((Tensor<float>)inputs["noise"]).ToArray();
        Assert.Contains(noise, v => v < 0);
        Assert.Contains(noise, v => v > 0);
        Assert.Contains("[0, 5)", generator.Descriptions["ids"]);
    }

    /// <summary>The batch is an input's first dimension only: in [1, seq] the dynamic dimension takes the sequence length.</summary>
    [Fact]
    public void A_fixed_batch_keeps_its_size_and_the_dynamic_dimension_after_it_is_the_sequence()
    {
        var g = new ModelGraph();
        g.Inputs.Add(new ValueInfo("x", DataType.Float32, new[] { Dimension.Fixed(1), Dimension.Unknown }));
        g.Outputs.Add(new ValueInfo("x", DataType.Float32, null));
        var inputs = new InputGenerator(new Model(g), batch: 3, sequence: 7).Generate(seed: 1);
        Assert.Equal(new[] { 1, 7 }, inputs["x"].Shape.ToArray());
        Assert.Equal(1, InputGenerator.FixedBatch(g));
        Assert.Null(InputGenerator.FixedBatch(IndexModel().Graph));
    }

    [Fact]
    public void The_same_seed_gives_the_same_inputs_and_another_seed_others()
    {
        var a = new InputGenerator(IndexModel(), 2, 8).Generate(seed: 7);
        var b = new InputGenerator(IndexModel(), 2, 8).Generate(seed: 7);
        var c = new InputGenerator(IndexModel(), 2, 8).Generate(seed: 8);
        Assert.Equal(((Tensor<float>)a["noise"]).ToArray(), ((Tensor<float>)b["noise"]).ToArray());
        Assert.NotEqual(((Tensor<float>)a["noise"]).ToArray(), ((Tensor<float>)c["noise"]).ToArray());
    }

    [Fact]
    public void Given_inputs_fix_the_size_of_their_dimension_names()
    {
        var given = new Dictionary<string, Tensor> { ["ids2"] = Tensor<long>.FromArray(new long[] { 0, 1, 2, 0, 1, 2, 0 }, 7) };
        var inputs = new InputGenerator(IndexModel(), 2, 50).Generate(seed: 0, given);
        Assert.Same(given["ids2"], inputs["ids2"]);
        Assert.Equal(new[] { 2, 7 }, inputs["ids"].Shape.ToArray());
    }

    [Fact]
    public void Minilm_ids_stay_within_the_vocab_and_token_types_within_two()
    {
        var model = Sparrow.Graph.Onnx.OnnxImporter.Load(Sparrow.Data.Models.DefaultModel.OnnxBytes);
        var bounds = InputGenerator.IndexBounds(model.Graph);
        Assert.Equal(30522, bounds["input_ids"]);
        Assert.Equal(2, bounds["token_type_ids"]);
        Assert.False(bounds.ContainsKey("attention_mask"));
    }

    [Fact]
    public void Small_cnn_input_gets_a_batch_and_its_fixed_dims()
    {
        var inputs = new InputGenerator(SmallCnn.Build(), 4, 99).Generate(0);
        Assert.Equal(new[] { 4, 3, 32, 32 }, inputs[SmallCnn.InputName].Shape.ToArray());
    }
}

public class OutputComparisonTests
{
    private static Tensor<float> T(params float[] v) => Tensor<float>.FromArray(v, v.Length);

    [Fact]
    public void Passes_within_atol_plus_rtol_times_expected()
    {
        var d = OutputComparison.Compare("y", T(1.0f, 100.1f), T(1.00005f, 100f), 1e-4, 1e-3);
        Assert.True(d.Passed);
        Assert.Equal(0.1, d.MaxAbsolute, 3);
        Assert.Equal(1e-3, d.MaxRelative, 5);
    }

    [Fact]
    public void Fails_beyond_tolerance_and_counts_the_elements()
    {
        var d = OutputComparison.Compare("y", T(1f, 2f, 3f), T(1f, 2.01f, 3.5f), 1e-4, 1e-3);
        Assert.False(d.Passed);
        Assert.Equal(2, d.Mismatches);
        Assert.Equal(0.5, d.MaxAbsolute, 5);
    }

    [Fact]
    public void Nan_matches_only_nan()
    {
        Assert.True(OutputComparison.Compare("y", T(float.NaN), T(float.NaN), 0, 0).Passed);
        Assert.False(OutputComparison.Compare("y", T(float.NaN), T(1f), 1, 1).Passed);
        Assert.False(OutputComparison.Compare("y", T(1f), T(float.NaN), 1, 1).Passed);
    }

    [Fact]
    public void Shape_type_and_missing_outputs_fail_with_a_reason()
    {
        Assert.Contains("shape", OutputComparison.Compare("y", T(1f, 2f), Tensor<float>.FromArray(new[] { 1f, 2f }, 1, 2), 1, 1).Problem);
        Assert.Contains("type", OutputComparison.Compare("y", Tensor<long>.FromArray(new[] { 1L }, 1), T(1f), 1, 1).Problem);
        Assert.False(OutputComparison.Compare("y", null, T(1f), 1, 1).Passed);
    }

    [Fact]
    public void Integer_outputs_compare_exactly_at_zero_tolerance()
    {
        Assert.True(OutputComparison.Compare("i", Tensor<long>.FromArray(new[] { 3L, 4L }, 2), Tensor<long>.FromArray(new[] { 3L, 4L }, 2), 0, 0).Passed);
        Assert.False(OutputComparison.Compare("i", Tensor<long>.FromArray(new[] { 3L, 5L }, 2), Tensor<long>.FromArray(new[] { 3L, 4L }, 2), 0, 0).Passed);
    }
}

public class BenchOutputTests
{
    /// <summary>About three significant digits; a time under a microsecond is never shown as 0.000 next to a non-zero rate.</summary>
    [Theory]
    [InlineData(123.4, "123")]
    [InlineData(12.34, "12.3")]
    [InlineData(0.1234, "0.12")]
    [InlineData(0.01234, "0.012")]
    [InlineData(0.00042, "0.00042")]
    [InlineData(0.0, "0.000")]
    public void Milliseconds_keep_their_digits(double ms, string shown) => Assert.Equal(shown, BenchOutput.Ms(ms));
}
