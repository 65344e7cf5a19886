using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Graph.Passes;
using Sparrow.Tensors;
using Xunit.Abstractions;

namespace Sparrow.Runtime.Tests.Passes;

/// <summary>
/// The fusions never change results beyond float rounding: each graph runs once as written (no graph passes)
/// and once optimised (constant folding, fusions), and the outputs must agree. Needs the runtime operators
/// of the decomposed forms (Add, Mul, ReduceMean, Erf, MatMul, ...) as well as the fused ones.
/// </summary>
public class FusionEquivalenceTests
{
    private readonly ITestOutputHelper _output;

    public FusionEquivalenceTests(ITestOutputHelper output) => _output = output;

    private sealed class Builder
    {
        private int _next;
        private readonly Random _random;

        public Builder(long opset, int seed)
        {
            Model = new Model(new ModelGraph { Name = "fusion" });
            Model.OpsetImports[""] = opset;
            _random = new Random(seed);
        }

        public Model Model { get; }

        public ModelGraph Graph => Model.Graph;

        public string Input(string name, params int[] shape)
        {
            Graph.Inputs.Add(new ValueInfo(name, DataType.Float32, shape.Select(d => Dimension.Fixed(d)).ToArray()));
            return name;
        }

        public string Constant(Tensor tensor)
        {
            var name = $"c{_next++}";
            Graph.Initializers[name] = tensor;
            return name;
        }

        public string Scalar(float value) => Constant(Tensor<float>.Scalar(value));

        public string Random(float scale, params int[] shape)
        {
            var data = new float[TensorShape.Product(shape)];
            for (var i = 0; i < data.Length; i++) data[i] = (float)((_random.NextDouble() * 2 - 1) * scale);
            return Constant(Tensor<float>.FromArray(data, shape));
        }

        public string Node(string opType, string[] inputs, params NodeAttribute[] attributes)
        {
            var output = $"v{_next++}";
            var node = new Node(opType, inputs, new[] { output }, $"n{_next++}");
            foreach (var a in attributes) node.SetAttribute(a);
            Graph.Nodes.Add(node);
            return output;
        }

        public string Node(string opType, params string[] inputs) => Node(opType, inputs, Array.Empty<NodeAttribute>());

        public void Output(string name) => Graph.Outputs.Add(new ValueInfo(name, DataType.Float32, null));

        /// <summary>The decomposed layer norm over the last axis, as all-MiniLM-L6-v2 spells it.</summary>
        public string LayerNorm(string x, int width, float epsilon)
        {
            var opset = Model.Opset;
            string Mean(string input) => opset >= 18
                ? Node("ReduceMean", input, Constant(Tensor<long>.FromArray(new[] { -1L }, 1)))
                : Node("ReduceMean", new[] { input }, NodeAttribute.Ints("axes", new[] { -1L }));
            var d = Node("Sub", x, Mean(x));
            var variance = Mean(Node("Pow", d, Scalar(2)));
            var normalized = Node("Div", d, Node("Sqrt", Node("Add", variance, Scalar(epsilon))));
            return Node("Add", Node("Mul", normalized, Random(1, width)), Random(0.5f, width));
        }

        public string Gelu(string x) =>
            Node("Mul", Node("Mul", x, Node("Add", Node("Erf", Node("Div", x, Scalar(MathF.Sqrt(2)))), Scalar(1))), Scalar(0.5f));

        public string Linear(string x, int k, int n) => Node("Add", Random(0.5f, n), Node("MatMul", x, Random(1 / MathF.Sqrt(k), k, n)));

        public string Transpose(string x, params long[] perm) => Node("Transpose", new[] { x }, NodeAttribute.Ints("perm", perm));

        /// <summary>
        /// Scaled dot-product attention as BERT exports spell it, on q, k, v in [batch, seq, heads, size]:
        /// Transpose, MatMul, the scale (scale &gt; 0: Div by it; &lt; 0: Mul by -scale; 0: none), Add mask, Softmax,
        /// MatMul, Transpose back.
        /// </summary>
        public string Attention(string q, string k, string v, string? mask, float scale, bool maskFirst = false)
        {
            var scores = Node("MatMul", Transpose(q, 0, 2, 1, 3), Transpose(k, 0, 2, 3, 1));
            if (scale > 0) scores = Node("Div", scores, Scalar(scale));
            else if (scale < 0) scores = Node("Mul", Scalar(-scale), scores);
            if (mask is not null) scores = maskFirst ? Node("Add", mask, scores) : Node("Add", scores, mask);
            var probabilities = Node("Softmax", new[] { scores }, NodeAttribute.Int("axis", -1));
            return Transpose(Node("MatMul", probabilities, Transpose(v, 0, 2, 1, 3)), 0, 2, 1, 3);
        }
    }

    private static Dictionary<string, Tensor> RandomInputs(Model model, int seed, float scale)
    {
        var random = new Random(seed);
        var inputs = new Dictionary<string, Tensor>();
        foreach (var input in model.Graph.RequiredInputs)
        {
            var shape = input.Shape!.Select(d => (int)d.Value!.Value).ToArray();
            var data = new float[TensorShape.Product(shape)];
            for (var i = 0; i < data.Length; i++) data[i] = (float)((random.NextDouble() * 2 - 1) * scale);
            inputs[input.Name] = Tensor<float>.FromArray(data, shape);
        }
        return inputs;
    }

    /// <summary>Runs the model as written and optimised; returns the optimised graph and the largest difference relative to max(1, |value|).</summary>
    private (Model Optimized, double Difference) Compare(Model model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        using var plain = new InferenceSession(model, new SessionOptions { OptimizeGraph = false, IntraOpThreads = 1 });
        using var optimized = new InferenceSession(model, new SessionOptions { OptimizeGraph = true, IntraOpThreads = 2 });
        var expected = plain.Run(inputs);
        var actual = optimized.Run(inputs);
        double worst = 0;
        foreach (var (name, e) in expected)
        {
            using var reference = e;
            using var result = actual[name];
            Assert.Equal(reference.Shape.ToArray(), result.Shape.ToArray());
            var a = result.As<float>().Span;
            var b = reference.As<float>().Span;
            for (var i = 0; i < a.Length; i++)
            {
                Assert.False(float.IsNaN(a[i]) != float.IsNaN(b[i]), $"output '{name}' element {i}: {a[i]} vs {b[i]}");
                worst = Math.Max(worst, Math.Abs(a[i] - b[i]) / Math.Max(1, Math.Abs(b[i])));
            }
        }
        _output.WriteLine($"largest difference {worst:E2}");
        return (optimized.Model, worst);
    }

    private static int Count(Model model, string opType, string domain = "") =>
        model.Graph.Nodes.Count(n => n.OpType == opType && n.Domain == domain);

    [Theory]
    [InlineData(13, 1e-12f)]
    [InlineData(18, 1e-5f)]
    public void Layer_norm_fusion_keeps_results(long opset, float epsilon)
    {
        var b = new Builder(opset, seed: 1);
        b.Output(b.LayerNorm(b.Input("x", 2, 5, 48), 48, epsilon));
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 2, scale: 3));
        Assert.Equal(1, Count(optimized, "LayerNormalization"));
        Assert.Equal(0, Count(optimized, "ReduceMean"));
        Assert.True(difference <= 2e-6, $"difference {difference:E2}");
    }

    [Fact]
    public void Gelu_fusion_keeps_results()
    {
        var b = new Builder(13, seed: 3);
        b.Output(b.Gelu(b.Input("x", 3, 257)));
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 4, scale: 8));
        Assert.Equal(1, Count(optimized, SparrowOps.Gelu, SparrowOps.Domain));
        Assert.Equal(0, Count(optimized, "Erf"));
        Assert.True(difference <= 1e-6, $"difference {difference:E2}");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Relu")]
    [InlineData("Gelu")]
    public void Linear_fusion_keeps_results(string? activation)
    {
        var b = new Builder(13, seed: 5);
        var y = b.Linear(b.Input("x", 2, 9, 40), 40, 72);
        if (activation == "Relu") y = b.Node("Relu", y);
        if (activation == "Gelu") y = b.Gelu(y);
        b.Output(y);
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 6, scale: 2));
        var linear = Assert.Single(optimized.Graph.Nodes);
        Assert.Equal((SparrowOps.Linear, SparrowOps.Domain), (linear.OpType, linear.Domain));
        Assert.Equal(activation ?? "", linear.GetString(SparrowOps.ActivationAttribute, ""));
        Assert.True(difference <= 1e-5, $"difference {difference:E2}");
    }

    [Fact]
    public void A_transformer_feed_forward_block_keeps_results()
    {
        // LN(x + W2·gelu(W1·x + b1) + b2), with the constants as Constant nodes like an unfolded export.
        var b = new Builder(13, seed: 7);
        var x = b.Input("x", 2, 6, 32);
        var hidden = b.Gelu(b.Linear(x, 32, 128));
        b.Output(b.LayerNorm(b.Node("Add", b.Linear(hidden, 128, 32), x), 32, 1e-12f));
        foreach (var (name, tensor) in b.Graph.Initializers.Where(kv => kv.Value.Rank == 0).ToArray())
        {
            b.Graph.Initializers.Remove(name);
            var constant = new Node("Constant", Array.Empty<string>(), new[] { name });
            constant.SetAttribute(NodeAttribute.TensorValue("value", tensor));
            b.Graph.Nodes.Insert(0, constant);
        }
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 8, scale: 1));
        Assert.Equal(new[] { "Linear", "Linear", "AddLayerNormalization" }, optimized.Graph.Nodes.Select(n => n.OpType).ToArray());
        Assert.True(difference <= 1e-5, $"difference {difference:E2}");
    }

    [Fact]
    public void A_near_miss_stays_unfused_and_keeps_results()
    {
        // Epsilon added after the square root: a different function, which must not become LayerNormalization.
        var b = new Builder(13, seed: 9);
        var x = b.Input("x", 4, 24);
        var d = b.Node("Sub", x, b.Node("ReduceMean", new[] { x }, NodeAttribute.Ints("axes", new[] { -1L })));
        var variance = b.Node("ReduceMean", new[] { b.Node("Pow", d, b.Scalar(2)) }, NodeAttribute.Ints("axes", new[] { -1L }));
        b.Output(b.Node("Div", d, b.Node("Add", b.Node("Sqrt", variance), b.Scalar(0.1f))));
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 10, scale: 1));
        Assert.Equal(0, Count(optimized, "LayerNormalization"));
        Assert.Equal(0, difference);
    }

    [Theory]
    // batch, queries, keys, heads, head size, value size, scale, mask shape ("" = no mask)
    [InlineData(2, 7, 7, 3, 5, 5, 8f, "2,1,1,7")]
    [InlineData(1, 1, 1, 1, 1, 1, 0f, "")]
    [InlineData(3, 5, 9, 2, 16, 3, -0.25f, "9")]
    [InlineData(2, 6, 4, 3, 8, 8, 2.5f, "1,3,6,4")]
    [InlineData(2, 6, 4, 3, 8, 8, 0f, "2,1,6,1")]
    [InlineData(1, 4, 6, 2, 4, 4, 2f, "4,6")]
    [InlineData(1, 300, 200, 2, 17, 9, 4f, "1,1,1,200")] // more query rows than one task takes: several blocks per head
    [InlineData(2, 33, 130, 12, 64, 64, 8f, "2,1,1,130")]
    public void Attention_fusion_keeps_results(int batch, int queries, int keys, int heads, int headSize, int valueSize, float scale, string maskShape)
    {
        var b = new Builder(13, seed: 12);
        var q = b.Input("q", batch, queries, heads, headSize);
        var k = b.Input("k", batch, keys, heads, headSize);
        var v = b.Input("v", batch, keys, heads, valueSize);
        var mask = maskShape.Length == 0 ? null : b.Input("mask", maskShape.Split(',').Select(int.Parse).ToArray());
        b.Output(b.Attention(q, k, v, mask, scale, maskFirst: batch == 3));
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 13, scale: 2));
        var attention = Assert.Single(optimized.Graph.Nodes);
        Assert.Equal((SparrowOps.Attention, SparrowOps.Domain), (attention.OpType, attention.Domain));
        Assert.True(difference <= 1e-5, $"difference {difference:E2}");
    }

    [Theory]
    [InlineData(13, 48, true)]
    [InlineData(18, 37, false)]
    [InlineData(18, 1, true)]
    public void Residual_add_into_layer_norm_keeps_results(long opset, int width, bool withBias)
    {
        var b = new Builder(opset, seed: 22);
        var x = b.Input("x", 3, 5, width);
        var y = b.Input("y", 3, 5, width);
        var sum = b.Node("Add", x, y);
        b.Output(withBias
            ? b.LayerNorm(sum, width, 1e-5f)
            : b.Node("LayerNormalization", new[] { sum, b.Random(1, width) }, NodeAttribute.Float("epsilon", 1e-3f)));
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 23, scale: 4));
        var fused = Assert.Single(optimized.Graph.Nodes);
        Assert.Equal((SparrowOps.AddLayerNormalization, SparrowOps.Domain), (fused.OpType, fused.Domain));
        Assert.True(difference <= 2e-6, $"difference {difference:E2}");
    }

    [Fact]
    public void Broadcasting_add_before_a_layer_norm_stays_unfused()
    {
        var b = new Builder(13, seed: 24);
        b.Output(b.LayerNorm(b.Node("Add", b.Input("x", 3, 5, 16), b.Input("row", 16)), 16, 1e-5f));
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 25, scale: 1));
        Assert.Equal(0, Count(optimized, SparrowOps.AddLayerNormalization, SparrowOps.Domain));
        Assert.Equal(1, Count(optimized, "LayerNormalization"));
        Assert.True(difference <= 2e-6, $"difference {difference:E2}");
    }

    [Fact]
    public void Attention_with_heads_and_batch_broadcast_keeps_results()
    {
        // One K and V head shared by every query head, one batch of Q against two of K and V.
        var b = new Builder(13, seed: 14);
        var q = b.Input("q", 1, 5, 4, 8);
        var k = b.Input("k", 2, 6, 1, 8);
        var v = b.Input("v", 2, 6, 1, 3);
        b.Output(b.Attention(q, k, v, b.Input("mask", 2, 4, 1, 6), 3f));
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 15, scale: 2));
        Assert.Equal(1, Count(optimized, SparrowOps.Attention, SparrowOps.Domain));
        Assert.True(difference <= 1e-5, $"difference {difference:E2}");
    }

    [Fact]
    public void Attention_with_a_large_mask_value_and_masked_rows_keeps_results()
    {
        // A BERT-style mask of 0 and -10000 (whole padded key columns), plus rows where every key is masked.
        var b = new Builder(13, seed: 16);
        var q = b.Input("q", 2, 9, 2, 8);
        var k = b.Input("k", 2, 9, 2, 8);
        var v = b.Input("v", 2, 9, 2, 8);
        var maskData = new float[2 * 9];
        for (var i = 0; i < maskData.Length; i++) maskData[i] = i % 9 >= 5 + i / 9 ? -10000f : 0f;
        var mask = b.Constant(Tensor<float>.FromArray(maskData, 2, 1, 1, 9));
        b.Output(b.Attention(q, k, v, mask, 8f));
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 17, scale: 3));
        Assert.Equal(1, Count(optimized, SparrowOps.Attention, SparrowOps.Domain));
        Assert.True(difference <= 1e-5, $"difference {difference:E2}");
    }

    [Fact]
    public void Attention_whose_scores_are_also_an_output_stays_unfused()
    {
        var b = new Builder(13, seed: 18);
        var q = b.Input("q", 1, 4, 2, 8);
        var scores = b.Node("MatMul", b.Transpose(q, 0, 2, 1, 3), b.Transpose(b.Input("k", 1, 4, 2, 8), 0, 2, 3, 1));
        var probabilities = b.Node("Softmax", new[] { scores }, NodeAttribute.Int("axis", -1));
        b.Output(b.Transpose(b.Node("MatMul", probabilities, b.Transpose(b.Input("v", 1, 4, 2, 8), 0, 2, 1, 3)), 0, 2, 1, 3));
        b.Output(scores);
        var (optimized, difference) = Compare(b.Model, RandomInputs(b.Model, seed: 19, scale: 1));
        Assert.Equal(0, Count(optimized, SparrowOps.Attention, SparrowOps.Domain));
        Assert.Equal(0, difference);
    }

    [Fact]
    public void MiniLm_fused_and_unfused_agree()
    {
        var model = OnnxImporter.Load(Sparrow.Data.Models.DefaultModel.ReadOnnx());
        const int batch = 2, sequence = 16;
        var random = new Random(11);
        var ids = new long[batch * sequence];
        var mask = new long[batch * sequence];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = random.Next(1000, 30000);
            mask[i] = i % sequence < sequence - 3 * (i / sequence) ? 1 : 0;
        }
        var inputs = new Dictionary<string, Tensor>
        {
            ["input_ids"] = Tensor<long>.FromArray(ids, batch, sequence),
            ["attention_mask"] = Tensor<long>.FromArray(mask, batch, sequence),
            ["token_type_ids"] = Tensor<long>.FromArray(new long[batch * sequence], batch, sequence),
        };
        var (optimized, difference) = Compare(model, inputs);
        // The embeddings' layer norm stays (its Add broadcasts the position embeddings); the 12 after residuals fuse.
        Assert.Equal(1, Count(optimized, "LayerNormalization"));
        Assert.Equal(12, Count(optimized, SparrowOps.AddLayerNormalization, SparrowOps.Domain));
        Assert.Equal(36, Count(optimized, SparrowOps.Linear, SparrowOps.Domain));
        Assert.Equal(6, Count(optimized, SparrowOps.Attention, SparrowOps.Domain));
        Assert.Equal(0, Count(optimized, "Erf"));
        Assert.True(difference <= 1e-4, $"difference {difference:E2}");
    }
}
