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
        Assert.Equal(new[] { "Linear", "Linear", "Add", "LayerNormalization" }, optimized.Graph.Nodes.Select(n => n.OpType).ToArray());
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
        Assert.Equal(13, Count(optimized, "LayerNormalization"));
        Assert.Equal(36, Count(optimized, SparrowOps.Linear, SparrowOps.Domain));
        Assert.Equal(0, Count(optimized, "Erf"));
        Assert.True(difference <= 1e-4, $"difference {difference:E2}");
    }
}
