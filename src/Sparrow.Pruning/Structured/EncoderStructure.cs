using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Pruning.Structured;

/// <summary>A linear map in the graph: MatMul(X, W) with W an initializer [in, out], then optionally Add(bias [out]).</summary>
public sealed record Projection(Node MatMul, string WeightName, Node? BiasAdd, string? BiasName)
{
    /// <summary>The value the projection produces (after its bias when it has one).</summary>
    public string Output => BiasAdd?.Outputs[0] ?? MatMul.Outputs[0];
}

/// <summary>
/// A place where the head count is written into a shape: <c>Node.Inputs[InputIndex]</c> is a constant int64
/// tensor whose element <c>Element</c> holds the number of heads (split reshapes) or heads × head size (the
/// merge reshape). Removal writes a new constant there.
/// </summary>
public sealed record ShapeSlot(Node Node, int InputIndex, int Element, bool TimesHeadSize);

/// <summary>One self-attention block: Q, K, V, the per-head reshapes and the output projection.</summary>
public sealed record AttentionBlock(
    Projection Query, Projection Key, Projection Value, Projection Output,
    Node ContextMatMul, Node MergeReshape, IReadOnlyList<ShapeSlot> ShapeSlots, int Heads, int HeadSize);

/// <summary>The feed-forward block: Up (hidden → intermediate, then the activation), Down (intermediate → hidden).</summary>
public sealed record FeedForwardBlock(Projection Up, Projection Down, int Intermediate);

/// <summary>One transformer encoder layer; <see cref="Input"/> and <see cref="Output"/> are the hidden states around it.</summary>
public sealed record EncoderLayer(int Index, string Input, string Output, AttentionBlock Attention, FeedForwardBlock FeedForward);

/// <summary>
/// The transformer encoder layers of a BERT-style ONNX graph (post-LayerNorm; the HuggingFace export, LayerNorm
/// and GELU decomposed or not), found by following the data flow from each attention's probabilities × V MatMul.
/// </summary>
public sealed class EncoderStructure
{
    private EncoderStructure(IReadOnlyList<EncoderLayer> layers, int hidden)
    {
        Layers = layers;
        HiddenSize = hidden;
    }

    /// <summary>The encoder layers, first to last.</summary>
    public IReadOnlyList<EncoderLayer> Layers { get; }

    /// <summary>The width of the hidden state (e.g. 384 for MiniLM).</summary>
    public int HiddenSize { get; }

    /// <summary>
    /// Each layer's projection weights by name, with a readable role such as "layer 0 query" or "layer 5 ffn down":
    /// ONNX exports often name weights by number only.
    /// </summary>
    public IReadOnlyDictionary<string, string> WeightRoles()
    {
        var roles = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var layer in Layers)
        {
            var prefix = $"layer {layer.Index} ";
            roles.TryAdd(layer.Attention.Query.WeightName, prefix + "query");
            roles.TryAdd(layer.Attention.Key.WeightName, prefix + "key");
            roles.TryAdd(layer.Attention.Value.WeightName, prefix + "value");
            roles.TryAdd(layer.Attention.Output.WeightName, prefix + "attention out");
            roles.TryAdd(layer.FeedForward.Up.WeightName, prefix + "ffn up");
            roles.TryAdd(layer.FeedForward.Down.WeightName, prefix + "ffn down");
        }
        return roles;
    }

    /// <summary>The layers, or null when the graph is not a BERT-style encoder this class recognises.</summary>
    public static EncoderStructure? TryFind(ModelGraph graph)
    {
        try
        {
            return Find(graph);
        }
        catch (PruningRequestException)
        {
            return null;
        }
    }

    /// <summary>Finds the layers; throws <see cref="PruningRequestException"/> naming what is missing when the graph does not have this shape.</summary>
    public static EncoderStructure Find(ModelGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var finder = new Finder(graph);
        // Only Softmaxes between a Q·Kᵀ and a probabilities × V MatMul are attention; a classifier's output Softmax is not.
        var softmaxes = graph.Nodes.Where(n => n.OpType == "Softmax" && n.Domain.Length == 0 && finder.IsAttention(n)).ToArray();
        if (softmaxes.Length == 0)
            throw StructureError.Of("no attention found: the graph has no Softmax between a Q·Kᵀ MatMul and a MatMul with V; structured pruning needs a BERT-style transformer encoder.");
        var layers = new List<EncoderLayer>();
        var hidden = -1;
        foreach (var softmax in softmaxes)
        {
            var layer = finder.Layer(softmax, layers.Count);
            var size = finder.Shape(layer.Attention.Query.WeightName)[0];
            if (hidden >= 0 && size != hidden)
                throw StructureError.Of($"layer {layer.Index} has hidden size {size}, the layers before it {hidden}.");
            hidden = size;
            layers.Add(layer);
        }
        return new EncoderStructure(layers, hidden);
    }

    private sealed class Finder(ModelGraph graph)
    {
        private readonly Dictionary<string, Node> _producers = graph.ProducerMap();
        private readonly Dictionary<string, List<Node>> _consumers = graph.ConsumerMap();

        public int[] Shape(string initializer) => graph.Initializers[initializer].CopyShape();

        public bool IsAttention(Node softmax) =>
            Consumers(softmax.Outputs[0]).Any(n => n.OpType == "MatMul" && n.Inputs[0] == softmax.Outputs[0])
            && FindBackward(softmax.Inputs[0], IsScoresMatMul, 6) is not null;

        private bool IsScoresMatMul(Node n) => n.OpType == "MatMul" && !IsConstant(n.Inputs[0]) && !IsConstant(n.Inputs[1]);

        public EncoderLayer Layer(Node softmax, int index)
        {
            var where = $"layer {index} (attention {softmax.DisplayName})";
            var context = Single(Consumers(softmax.Outputs[0]).Where(n => n.OpType == "MatMul"),
                $"{where}: no MatMul of the attention probabilities with V after the Softmax");

            // Scores = Q·Kᵀ: the nearest MatMul of two computed values behind the Softmax (scale and mask in between).
            var scores = FindBackward(softmax.Inputs[0], IsScoresMatMul, 6)
                ?? throw StructureError.Of($"{where}: no Q·Kᵀ MatMul before the Softmax.");
            var slots = new List<ShapeSlot>();
            var (query, qHeads, qSize) = HeadProjection(scores.Inputs[0], $"{where}, query", slots);
            var (key, kHeads, kSize) = HeadProjection(scores.Inputs[1], $"{where}, key", slots);
            var (value, vHeads, vSize) = HeadProjection(context.Inputs[1], $"{where}, value", slots);
            if (qHeads != kHeads || qHeads != vHeads || qSize != kSize || qSize != vSize)
                throw StructureError.Of($"{where}: Q, K and V are split into different heads ({qHeads}x{qSize}, {kHeads}x{kSize}, {vHeads}x{vSize}).");
            var input = query.MatMul.Inputs[0];
            if (key.MatMul.Inputs[0] != input || value.MatMul.Inputs[0] != input)
                throw StructureError.Of($"{where}: Q, K and V do not read the same input.");
            var hidden = Shape(query.WeightName)[0];
            foreach (var p in new[] { query, key, value })
                if (Shape(p.WeightName)[1] != qHeads * qSize)
                    throw StructureError.Of($"{where}: weight '{p.WeightName}' is [{string.Join("x", Shape(p.WeightName))}], not [{hidden}x{qHeads * qSize}] for {qHeads} heads of {qSize}.");

            // Context [b, h, s, d] → Transpose → Reshape [b, s, h·d] → output projection → residual → LayerNorm.
            var merged = SkipForward(context.Outputs[0], "Transpose", $"{where}: the attention context");
            var mergeReshape = Single(Consumers(merged).Where(n => n.OpType == "Reshape"), $"{where}: no Reshape merging the heads after the context MatMul");
            if (MergeSlot(mergeReshape, qHeads, qSize, where) is { } mergeSlot) slots.Add(mergeSlot);
            var outputMatMul = Single(Consumers(mergeReshape.Outputs[0]).Where(n => n.OpType == "MatMul"), $"{where}: no output projection MatMul after the merged heads");
            var output = ForwardProjection(outputMatMul, $"{where}, attention output");
            if (Shape(output.WeightName)[0] != qHeads * qSize)
                throw StructureError.Of($"{where}: the output projection '{output.WeightName}' does not take {qHeads * qSize} inputs.");
            var attentionOut = LayerNormAfterResidual(output.Output, input, $"{where}, attention output");

            // Feed-forward: MatMul up → bias → activation → MatMul down → bias → residual → LayerNorm.
            var upMatMul = Single(Consumers(attentionOut).Where(n => n.OpType == "MatMul" && IsInitializer(n.Inputs[1])),
                $"{where}: no feed-forward MatMul reading the attention block's output '{attentionOut}'");
            var up = ForwardProjection(upMatMul, $"{where}, feed-forward up");
            var intermediate = Shape(up.WeightName)[1];
            var downMatMul = FindForward(up.Output, n => n.OpType == "MatMul" && IsInitializer(n.Inputs[1]), 10)
                ?? throw StructureError.Of($"{where}: no feed-forward down MatMul after the activation of '{up.Output}'.");
            var down = ForwardProjection(downMatMul, $"{where}, feed-forward down");
            if (Shape(down.WeightName)[0] != intermediate || Shape(down.WeightName)[1] != hidden || Shape(up.WeightName)[0] != hidden)
                throw StructureError.Of($"{where}: feed-forward weights '{up.WeightName}' and '{down.WeightName}' are not [{hidden}xI] and [Ix{hidden}].");
            var layerOut = LayerNormAfterResidual(down.Output, attentionOut, $"{where}, feed-forward output");

            foreach (var name in new[] { query, key, value, output, up, down }.SelectMany(p => new[] { p.WeightName, p.BiasName }))
                if (name is not null && Consumers(name).Count() != 1)
                    throw StructureError.Of($"{where}: '{name}' is read by several nodes; shared weights cannot be shrunk for one layer.");

            return new EncoderLayer(index, input, layerOut,
                new AttentionBlock(query, key, value, output, context, mergeReshape, slots, qHeads, qSize),
                new FeedForwardBlock(up, down, intermediate));
        }

        /// <summary>Walks back from a head-split value: Transposes, the Reshape [.., heads, size], the bias Add and the MatMul.</summary>
        private (Projection Projection, int Heads, int HeadSize) HeadProjection(string value, string where, List<ShapeSlot> slots)
        {
            var node = Producer(value, where);
            // Some exports scale Q and K separately (by √scale) between the head split and Q·Kᵀ.
            while (node.OpType == "Transpose" || node.OpType is "Mul" or "Div" && IsConstant(node.Inputs[1]))
                node = Producer(node.Inputs[0], where);
            if (node.OpType != "Reshape")
                throw StructureError.Of($"{where}: expected a Reshape into heads, found {node.DisplayName}.");
            var (heads, size, slot) = SplitShape(node, where);
            if (slot is not null) slots.Add(slot);
            var projection = BackwardProjection(node.Inputs[0], where);
            // A head count of -1 is inferred by the Reshape: it is the projection's width over the head size.
            if (heads <= 0 && size > 0) heads = Shape(projection.WeightName)[1] / size;
            return (projection, heads, size);
        }

        /// <summary>The heads and head size of a split Reshape, and where the head count is written (null: it is -1, inferred).</summary>
        private (int Heads, int HeadSize, ShapeSlot? Slot) SplitShape(Node reshape, string where)
        {
            var shape = reshape.Inputs[1];
            if (ConstantInts(shape) is { } constant)
            {
                if (constant.Length != 4) throw StructureError.Of($"{where}: Reshape {reshape.DisplayName} has shape [{string.Join(", ", constant)}], not [batch, seq, heads, head size].");
                return ((int)constant[2], (int)constant[3], constant[2] > 0 ? new ShapeSlot(reshape, 1, 2, false) : null);
            }
            var concat = Producer(shape, where);
            if (concat.OpType != "Concat" || concat.Inputs.Count != 4)
                throw StructureError.Of($"{where}: the shape of Reshape {reshape.DisplayName} is neither a constant nor a Concat of 4 parts.");
            var headsPart = ConstantInts(concat.Inputs[2]);
            var sizePart = ConstantInts(concat.Inputs[3]);
            if (headsPart is not { Length: 1 } || sizePart is not { Length: 1 })
                throw StructureError.Of($"{where}: the heads and head size in the shape Concat {concat.DisplayName} are not constants.");
            return ((int)headsPart[0], (int)sizePart[0], headsPart[0] > 0 ? new ShapeSlot(concat, 2, 0, false) : null);
        }

        /// <summary>Where the merge Reshape writes heads × size; null when it writes -1 (inferred, nothing to fix).</summary>
        private ShapeSlot? MergeSlot(Node reshape, int heads, int size, string where)
        {
            var shape = reshape.Inputs[1];
            if (ConstantInts(shape) is { } constant)
            {
                if (constant.Length == 3 && constant[2] == -1) return null;
                if (constant.Length == 3 && constant[2] == heads * size) return new ShapeSlot(reshape, 1, 2, true);
                throw StructureError.Of($"{where}: the head-merging Reshape {reshape.DisplayName} has shape [{string.Join(", ", constant)}], not [batch, seq, {heads * size}].");
            }
            var concat = Producer(shape, where);
            if (concat.OpType == "Concat" && concat.Inputs.Count == 3 && ConstantInts(concat.Inputs[2]) is [var all])
            {
                if (all == -1) return null;
                if (all == heads * size) return new ShapeSlot(concat, 2, 0, true);
            }
            throw StructureError.Of($"{where}: the shape of the head-merging Reshape {reshape.DisplayName} is not [batch, seq, {heads * size}] from a constant or a Concat.");
        }

        private Projection BackwardProjection(string value, string where)
        {
            var node = Producer(value, where);
            Node? add = null;
            string? bias = null;
            if (node.OpType == "Add")
            {
                var biasIndex = IsInitializer(node.Inputs[0]) ? 0 : IsInitializer(node.Inputs[1]) ? 1 : -1;
                if (biasIndex < 0) throw StructureError.Of($"{where}: {node.DisplayName} adds no constant bias.");
                add = node;
                bias = node.Inputs[biasIndex];
                node = Producer(node.Inputs[1 - biasIndex], where);
            }
            if (node.OpType != "MatMul" || !IsInitializer(node.Inputs[1]))
                throw StructureError.Of($"{where}: expected a MatMul with a constant weight, found {node.DisplayName}.");
            return Checked(new Projection(node, node.Inputs[1], add, bias), where);
        }

        private Projection ForwardProjection(Node matMul, string where)
        {
            var add = Consumers(matMul.Outputs[0]).ToArray() is [{ OpType: "Add" } only]
                && (IsInitializer(only.Inputs[0]) || IsInitializer(only.Inputs[1])) ? only : null;
            var bias = add is null ? null : IsInitializer(add.Inputs[0]) ? add.Inputs[0] : add.Inputs[1];
            return Checked(new Projection(matMul, matMul.Inputs[1], add, bias), where);
        }

        private Projection Checked(Projection p, string where)
        {
            var w = graph.Initializers[p.WeightName];
            if (w is not Tensor<float> || w.Rank != 2)
                throw StructureError.Of($"{where}: weight '{p.WeightName}' is {w}, not a float32 matrix.");
            if (p.BiasName is { } b && (graph.Initializers[b] is not Tensor<float> bt || bt.Rank != 1 || bt.Shape[0] != w.Shape[1]))
                throw StructureError.Of($"{where}: bias '{b}' is {graph.Initializers[b]}, not float32 [{w.Shape[1]}].");
            return p;
        }

        /// <summary>Add(value, residual) then LayerNorm (decomposed or a LayerNormalization node); returns the normalised value.</summary>
        private string LayerNormAfterResidual(string value, string residual, string where)
        {
            var add = Consumers(value).FirstOrDefault(n => n.OpType == "Add" && n.Inputs.Contains(residual))
                ?? throw StructureError.Of($"{where}: no residual Add of '{value}' and '{residual}'.");
            var sum = add.Outputs[0];
            if (Consumers(sum).FirstOrDefault(n => n.OpType == "LayerNormalization") is { } fused) return fused.Outputs[0];
            // Decomposed: ReduceMean, Sub(x, mean), Pow, ReduceMean, Add ε, Sqrt, Div(x - mean, σ), Mul γ, Add β.
            var sub = Consumers(sum).FirstOrDefault(n => n.OpType == "Sub" && n.Inputs[0] == sum)
                ?? throw StructureError.Of($"{where}: no LayerNorm after the residual Add {add.DisplayName}.");
            var div = Consumers(sub.Outputs[0]).FirstOrDefault(n => n.OpType == "Div" && n.Inputs[0] == sub.Outputs[0])
                ?? throw StructureError.Of($"{where}: the LayerNorm after {add.DisplayName} has no Div by the deviation.");
            var mul = Consumers(div.Outputs[0]).ToArray() is [{ OpType: "Mul" } m] ? m
                : throw StructureError.Of($"{where}: the LayerNorm after {add.DisplayName} has no scale Mul.");
            var beta = Consumers(mul.Outputs[0]).ToArray() is [{ OpType: "Add" } a] ? a
                : throw StructureError.Of($"{where}: the LayerNorm after {add.DisplayName} has no shift Add.");
            return beta.Outputs[0];
        }

        private string SkipForward(string value, string opType, string where)
        {
            while (Consumers(value).ToArray() is [var only] && only.OpType == opType) value = only.Outputs[0];
            return value;
        }

        private Node? FindBackward(string value, Func<Node, bool> match, int depth)
        {
            if (depth == 0 || !_producers.TryGetValue(value, out var node)) return null;
            if (match(node)) return node;
            foreach (var input in node.Inputs)
                if (input.Length > 0 && FindBackward(input, match, depth - 1) is { } found) return found;
            return null;
        }

        private Node? FindForward(string value, Func<Node, bool> match, int depth)
        {
            if (depth == 0) return null;
            foreach (var node in Consumers(value))
            {
                if (match(node)) return node;
                foreach (var output in node.Outputs)
                    if (FindForward(output, match, depth - 1) is { } found) return found;
            }
            return null;
        }

        private Node Producer(string value, string where) =>
            _producers.TryGetValue(value, out var node) ? node : throw StructureError.Of($"{where}: '{value}' is not computed by a node.");

        private IEnumerable<Node> Consumers(string value) => _consumers.TryGetValue(value, out var list) ? list : Enumerable.Empty<Node>();

        private static Node Single(IEnumerable<Node> nodes, string missing) =>
            nodes.ToArray() is [var one] ? one : throw StructureError.Of(missing + ".");

        private bool IsInitializer(string value) => graph.Initializers.ContainsKey(value);

        private bool IsConstant(string value) => IsInitializer(value) || _producers.TryGetValue(value, out var n) && n.OpType == "Constant";

        /// <summary>The int64 values of an initializer or Constant node; null when the value is computed.</summary>
        public long[]? ConstantInts(string value) => StructureConstants.Ints(graph, _producers, value);
    }
}

internal static class StructureConstants
{
    public static Tensor? Tensor(ModelGraph graph, IReadOnlyDictionary<string, Node> producers, string value)
    {
        if (graph.Initializers.TryGetValue(value, out var t)) return t;
        if (producers.TryGetValue(value, out var node) && node.OpType == "Constant" && node.FindAttribute("value") is { } a) return a.AsTensor();
        return null;
    }

    public static long[]? Ints(ModelGraph graph, IReadOnlyDictionary<string, Node> producers, string value) =>
        Tensor(graph, producers, value) is Tensor<long> longs ? longs.Span.ToArray() : null;
}

/// <summary>Errors for models that do not have the structure structured pruning needs; the message says what is missing.</summary>
internal static class StructureError
{
    public static PruningRequestException Of(string message) => new("Structured pruning: " + message);
}
