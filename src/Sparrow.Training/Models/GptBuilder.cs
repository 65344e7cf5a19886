using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Training.Data;

namespace Sparrow.Training.Models;

/// <summary>The shape of a GPT-style decoder built by <see cref="GptBuilder"/>.</summary>
/// <param name="Vocabulary">Token ids are 0..Vocabulary-1.</param>
/// <param name="Context">The longest sequence the model reads (rows of the position table and of the causal mask).</param>
/// <param name="Width">The embedding width D (a multiple of <paramref name="Heads"/>).</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="Layers">Decoder blocks.</param>
/// <param name="MlpRatio">The MLP's hidden width as a multiple of D.</param>
/// <param name="TiedHead">Output head = the token embedding table transposed (else a separate [D, V] weight).</param>
/// <param name="Experts">0: dense MLPs. Otherwise each block's MLP is an ai.sparrow:MoE layer of this many experts, each an
/// MLP of hidden width MlpRatio·D (docs/operators/moe.md).</param>
/// <param name="ExpertsPerToken">k, the experts each token runs (MoE only).</param>
/// <param name="CapacityFactor">The MoE layers' capacity factor; 0 = dropless.</param>
public sealed record GptOptions(int Vocabulary, int Context = 128, int Width = 128, int Heads = 4, int Layers = 4, int MlpRatio = 4, bool TiedHead = false,
    int Experts = 0, int ExpertsPerToken = 2, float CapacityFactor = 0f)
{
    /// <summary>The number of trainable values the built model holds.</summary>
    public long ParameterCount => Count(Math.Max(1, Experts));

    /// <summary>The trainable values one token uses: with MoE, the router and k experts per block instead of all of them.</summary>
    public long ActiveParameterCount => Count(Experts == 0 ? 1 : Math.Min(ExpertsPerToken, Experts));

    private long Count(int expertsCounted)
    {
        long d = Width, hidden = (long)MlpRatio * Width;
        var mlp = d * hidden + hidden + hidden * d + d;
        var router = Experts > 0 ? Experts * d + Experts : 0;
        var block = 4 * d /* two LayerNorms */ + 4 * (d * d + d) /* Q, K, V, O */ + expertsCounted * mlp + router;
        return Vocabulary * d + Context * d + Layers * block + 2 * d + (TiedHead ? 0 : d * Vocabulary);
    }
}

/// <summary>
/// A GPT-style decoder as a plain ONNX graph (opset 20, default domain only, so ONNX Runtime runs it): token and
/// position embeddings, pre-norm residual blocks of causal multi-head self-attention and a Gelu MLP,
/// LayerNormalization, and an output head (tied to the token table or separate). Input <c>input</c> = int64
/// token ids [batch, seq] with seq ≤ context; output <c>logits</c> [batch, seq, vocabulary].
/// With <see cref="GptOptions.Experts"/> &gt; 0 each MLP is one <c>ai.sparrow:MoE</c> node (so the model needs Sparrow,
/// or <c>MixtureOfExperts.ExpandToStandardOnnx</c>, to run), and the graph has two more outputs per block:
/// <see cref="RouterLogitsOutput"/> (for the load-balancing and z losses) and <see cref="ExpertCountsOutput"/>.
/// </summary>
/// <remarks>
/// Every constant that is not a weight (the causal mask, the attention scale, shapes, slice bounds) is a Constant
/// node rather than an initializer, so that "every float initializer" (the trainer's default) is exactly the
/// weights. The position table and the causal mask are sliced to the input's length at run time, so one model
/// reads any length up to the context. Weights follow GPT-2's initialisation: N(0, 0.02), the projections into
/// the residual stream scaled by 1/√(2·layers); LayerNorm scale 1, biases 0.
/// </remarks>
public static class GptBuilder
{
    /// <summary>Builds the decoder with seeded weights.</summary>
    public static Model Build(GptOptions options, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Width % options.Heads != 0) throw new ArgumentException($"The width {options.Width} is not a multiple of the {options.Heads} heads.");
        if (options.Vocabulary < 1 || options.Context < 1 || options.Layers < 1 || options.MlpRatio < 1)
            throw new ArgumentException("Vocabulary, context, layers and MLP ratio must be positive.");
        if (options.Experts < 0 || (options.Experts > 0 && (options.ExpertsPerToken < 1 || options.ExpertsPerToken > options.Experts)))
            throw new ArgumentException($"Experts must be 0 (dense) or positive with 1 ≤ ExpertsPerToken ≤ Experts; got {options.Experts} experts, k = {options.ExpertsPerToken}.");
        var random = new Xoshiro256(seed);
        int d = options.Width, heads = options.Heads, headWidth = d / heads, hidden = options.MlpRatio * d;
        var residualStd = 0.02 / Math.Sqrt(2.0 * options.Layers);
        var g = new GraphWriter(new ModelGraph { Name = $"gpt_{options.Layers}x{d}" });
        var graph = g.Graph;
        graph.Inputs.Add(new ValueInfo(ModelBuilder.InputName, DataType.Int64, [Dimension.Named("batch"), Dimension.Named("seq")]));

        graph.Initializers["wte"] = Normal(random, [options.Vocabulary, d], 0.02);
        graph.Initializers["wpe"] = Normal(random, [options.Context, d], 0.02);
        g.Node("Gather", ["wte", ModelBuilder.InputName], "tok");
        g.Node("Shape", [ModelBuilder.InputName], "seq_len", NodeAttribute.Int("start", 1), NodeAttribute.Int("end", 2));
        var zero = g.Constant("zero", Tensor<long>.FromArray([0L], [1]));
        g.Node("Slice", ["wpe", zero, "seq_len", zero], "pos");
        var x = g.Node("Add", ["tok", "pos"], "embed");

        // Causal mask: position i may attend to j ≤ i; sliced to [seq, seq].
        var mask = new bool[options.Context * options.Context];
        for (var i = 0; i < options.Context; i++)
            for (var j = 0; j <= i; j++) mask[i * options.Context + j] = true;
        var fullMask = g.Constant("causal_mask_full", Tensor<bool>.FromArray(mask, [options.Context, options.Context]));
        g.Node("Concat", ["seq_len", "seq_len"], "mask_end", NodeAttribute.Int("axis", 0));
        var zeros2 = g.Constant("zeros2", Tensor<long>.FromArray([0L, 0L], [2]));
        var axes01 = g.Constant("axes01", Tensor<long>.FromArray([0L, 1L], [2]));
        var causal = g.Node("Slice", [fullMask, zeros2, "mask_end", axes01], "causal_mask");
        var masked = g.Constant("masked_score", Tensor<float>.Scalar(-1e9f));
        var scale = g.Constant("attention_scale", Tensor<float>.Scalar((float)(1 / Math.Sqrt(headWidth))));
        var splitShape = g.Constant("split_heads_shape", Tensor<long>.FromArray([0L, 0L, heads, headWidth], [4]));
        var mergeShape = g.Constant("merge_heads_shape", Tensor<long>.FromArray([0L, 0L, d], [3]));

        for (var layer = 0; layer < options.Layers; layer++)
        {
            var p = $"h{layer}";
            var h = LayerNorm(g, $"{p}.ln1", x, d);
            string Projection(string name, string input, int inputs, int outputs, double std)
            {
                graph.Initializers[$"{name}.weight"] = Normal(random, [inputs, outputs], std);
                graph.Initializers[$"{name}.bias"] = Tensor<float>.Allocate([outputs], clear: true);
                var product = g.Node("MatMul", [input, $"{name}.weight"], $"{name}.matmul");
                return g.Node("Add", [product, $"{name}.bias"], $"{name}.out");
            }
            var q = Projection($"{p}.attn.q", h, d, d, 0.02);
            var k = Projection($"{p}.attn.k", h, d, d, 0.02);
            var v = Projection($"{p}.attn.v", h, d, d, 0.02);
            string Heads(string value, long[] perm) =>
                g.Node("Transpose", [g.Node("Reshape", [value, splitShape], $"{value}.split")], $"{value}.heads", NodeAttribute.Ints("perm", perm));
            var qh = Heads(q, [0, 2, 1, 3]);   // [B, H, T, hd]
            var kt = Heads(k, [0, 2, 3, 1]);   // [B, H, hd, T]
            var vh = Heads(v, [0, 2, 1, 3]);   // [B, H, T, hd]
            var scores = g.Node("Mul", [g.Node("MatMul", [qh, kt], $"{p}.attn.qk")], $"{p}.attn.scores", extraInput: scale);
            var allowed = g.Node("Where", [causal, scores, masked], $"{p}.attn.masked");
            var weights = g.Node("Softmax", [allowed], $"{p}.attn.probs", NodeAttribute.Int("axis", -1));
            var context = g.Node("MatMul", [weights, vh], $"{p}.attn.context");
            var merged = g.Node("Reshape", [g.Node("Transpose", [context], $"{p}.attn.context_t", NodeAttribute.Ints("perm", [0, 2, 1, 3])), mergeShape], $"{p}.attn.merged");
            var attention = Projection($"{p}.attn.o", merged, d, d, residualStd);
            x = g.Node("Add", [x, attention], $"{p}.residual1");

            var h2 = LayerNorm(g, $"{p}.ln2", x, d);
            string down;
            if (options.Experts > 0)
            {
                int e = options.Experts;
                graph.Initializers[$"{p}.moe.router.weight"] = Normal(random, [e, d], 0.02);
                graph.Initializers[$"{p}.moe.router.bias"] = Tensor<float>.Allocate([e], clear: true);
                graph.Initializers[$"{p}.moe.w1"] = Normal(random, [e, hidden, d], 0.02);
                graph.Initializers[$"{p}.moe.b1"] = Tensor<float>.Allocate([e, hidden], clear: true);
                graph.Initializers[$"{p}.moe.w2"] = Normal(random, [e, d, hidden], residualStd);
                graph.Initializers[$"{p}.moe.b2"] = Tensor<float>.Allocate([e, d], clear: true);
                down = $"{p}.moe.out";
                var moe = new Node("MoE", [h2, $"{p}.moe.router.weight", $"{p}.moe.router.bias", $"{p}.moe.w1", $"{p}.moe.b1", $"{p}.moe.w2", $"{p}.moe.b2"],
                    [down, ExpertCountsOutput(layer), RouterLogitsOutput(layer)], $"{p}.moe", "ai.sparrow");
                moe.Attributes.Add(NodeAttribute.Int("k", options.ExpertsPerToken));
                moe.Attributes.Add(NodeAttribute.String("activation", "gelu"));
                moe.Attributes.Add(NodeAttribute.Float("capacity_factor", options.CapacityFactor));
                graph.Nodes.Add(moe);
            }
            else
            {
                var up = Projection($"{p}.mlp.fc1", h2, d, hidden, 0.02);
                var act = g.Node("Gelu", [up], $"{p}.mlp.gelu");
                down = Projection($"{p}.mlp.fc2", act, hidden, d, residualStd);
            }
            x = g.Node("Add", [x, down], $"{p}.residual2");
        }
        var final = LayerNorm(g, "ln_f", x, d);
        if (options.TiedHead)
        {
            var table = g.Node("Transpose", ["wte"], "wte_t", NodeAttribute.Ints("perm", [1, 0]));
            g.Node("MatMul", [final, table], ModelBuilder.OutputName);
        }
        else
        {
            graph.Initializers["head.weight"] = Normal(random, [d, options.Vocabulary], 0.02);
            g.Node("MatMul", [final, "head.weight"], ModelBuilder.OutputName);
        }
        graph.Outputs.Add(new ValueInfo(ModelBuilder.OutputName, DataType.Float32,
            [Dimension.Named("batch"), Dimension.Named("seq"), Dimension.Fixed(options.Vocabulary)]));
        for (var layer = 0; layer < options.Layers && options.Experts > 0; layer++)
        {
            graph.Outputs.Add(new ValueInfo(RouterLogitsOutput(layer), DataType.Float32,
                [Dimension.Named("batch"), Dimension.Named("seq"), Dimension.Fixed(options.Experts)]));
            graph.Outputs.Add(new ValueInfo(ExpertCountsOutput(layer), DataType.Int64, [Dimension.Fixed(options.Experts)]));
        }
        var model = new Model(graph) { ProducerName = "Sparrow.Training", IrVersion = 9 };
        model.OpsetImports[""] = 20; // Gelu is an ai.onnx operator from opset 20
        if (options.Experts > 0) model.OpsetImports["ai.sparrow"] = 1;
        return model;
    }

    /// <summary>The graph output with block <paramref name="layer"/>'s router logits [batch, seq, experts] (MoE models).</summary>
    public static string RouterLogitsOutput(int layer) => $"h{layer}.moe.router_logits";

    /// <summary>The graph output with block <paramref name="layer"/>'s tokens per expert, int64 [experts] (MoE models).</summary>
    public static string ExpertCountsOutput(int layer) => $"h{layer}.moe.expert_counts";

    private static string LayerNorm(GraphWriter g, string name, string input, int width)
    {
        var scale = Tensor<float>.Allocate([width], clear: false);
        scale.Span.Fill(1f);
        g.Graph.Initializers[$"{name}.weight"] = scale;
        g.Graph.Initializers[$"{name}.bias"] = Tensor<float>.Allocate([width], clear: true);
        return g.Node("LayerNormalization", [input, $"{name}.weight", $"{name}.bias"], $"{name}.out",
            NodeAttribute.Int("axis", -1), NodeAttribute.Float("epsilon", 1e-5f));
    }

    private static Tensor<float> Normal(Xoshiro256 random, int[] shape, double std)
    {
        var data = new float[TensorShape.Product(shape)];
        for (var i = 0; i < data.Length; i++) data[i] = (float)(std * random.NextGaussian());
        return Tensor<float>.FromArray(data, shape);
    }

    /// <summary>Adds nodes named after their single output.</summary>
    private sealed class GraphWriter(ModelGraph graph)
    {
        public ModelGraph Graph { get; } = graph;

        public string Node(string opType, IEnumerable<string> inputs, string output, params NodeAttribute[] attributes) =>
            Node(opType, inputs, output, null, attributes);

        public string Node(string opType, IEnumerable<string> inputs, string output, string? extraInput, params NodeAttribute[] attributes)
        {
            var all = inputs.ToList();
            if (extraInput is not null) all.Add(extraInput);
            var node = new Node(opType, all, [output], output);
            foreach (var a in attributes) node.Attributes.Add(a);
            Graph.Nodes.Add(node);
            return output;
        }

        public string Constant(string name, Tensor value) => Node("Constant", [], name, NodeAttribute.TensorValue("value", value));
    }
}
