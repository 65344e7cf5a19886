using Sparrow.Tensors;

namespace Sparrow.Graph.Passes;

/// <summary>
/// What the fusion passes ask of a graph: who produces and who reads each value, which values are constants,
/// and how to replace a matched group of nodes by one node. Kept up to date as fusions are applied.
/// </summary>
internal sealed class FusionGraph
{
    private readonly Dictionary<string, Node> _producers = new();
    private readonly Dictionary<string, List<Node>> _readers = new();
    private readonly HashSet<string> _graphOutputs;
    private readonly HashSet<string> _graphInputs;
    private readonly Dictionary<string, ValueInfo> _shapes;
    private readonly HashSet<string> _nodeNames;

    public FusionGraph(Model model, IReadOnlyDictionary<string, ValueInfo> shapes)
    {
        Model = model;
        _shapes = new Dictionary<string, ValueInfo>(shapes);
        _graphOutputs = new HashSet<string>(Graph.Outputs.Select(o => o.Name));
        _graphInputs = new HashSet<string>(Graph.Inputs.Select(i => i.Name));
        foreach (var node in Graph.Nodes) Index(node);
        _nodeNames = new HashSet<string>(Graph.Nodes.Select(n => n.Name));
    }

    public Model Model { get; }

    public ModelGraph Graph => Model.Graph;

    /// <summary>The default-domain opset.</summary>
    public long Opset => Model.Opset;

    public Node? Producer(string value) => _producers.GetValueOrDefault(value);

    /// <summary>The nodes that read a value, once per input slot (a node reading it twice appears twice).</summary>
    public IReadOnlyList<Node> Readers(string value) =>
        _readers.TryGetValue(value, out var list) ? list : Array.Empty<Node>();

    public bool IsGraphOutput(string value) => _graphOutputs.Contains(value);

    /// <summary>
    /// True when a value is an intermediate that exactly the given node reads (in <paramref name="uses"/>
    /// input slots) and nothing else, so that fusing it away cannot change what anyone else sees.
    /// </summary>
    public bool OnlyFeeds(string value, Node reader, int uses = 1)
    {
        if (IsGraphOutput(value) || !_producers.ContainsKey(value)) return false;
        var readers = Readers(value);
        return readers.Count == uses && readers.All(r => ReferenceEquals(r, reader));
    }

    /// <summary>
    /// A constant value: an initializer that no graph input may override, or the output of a Constant node
    /// (before constant folding turns those into initializers).
    /// </summary>
    public Tensor? Constant(string name)
    {
        if (name.Length == 0) return null;
        if (Graph.Initializers.TryGetValue(name, out var tensor)) return _graphInputs.Contains(name) ? null : tensor;
        if (Producer(name) is { OpType: "Constant", Domain: "" } node && node.Outputs.Count == 1)
        {
            if (node.FindAttribute("value") is { Kind: AttributeKind.Tensor } value) return value.AsTensor();
            if (node.FindAttribute("value_float") is { Kind: AttributeKind.Float } f) return Tensor<float>.Scalar(f.AsFloat());
            if (node.FindAttribute("value_floats") is { Kind: AttributeKind.Floats } fs) return Tensor<float>.FromArray(fs.AsFloats(), fs.AsFloats().Length);
        }
        return null;
    }

    /// <summary>True when a value is an initializer, i.e. a weight the runtime can prepare once.</summary>
    public bool IsInitializer(string name) => Graph.Initializers.ContainsKey(name) && !_graphInputs.Contains(name);

    /// <summary>
    /// The single float of a one-element float32 constant whose rank cannot widen the other operand's shape
    /// through broadcasting (rank 0 always; higher only when the other operand's rank is known to be at least as large).
    /// </summary>
    public bool TryScalar(string name, string otherOperand, out float value)
    {
        value = 0;
        if (Constant(name) is not Tensor<float> { Length: 1 } t) return false;
        if (t.Rank > 0 && (Rank(otherOperand) is not { } rank || rank < t.Rank)) return false;
        value = t.Span[0];
        return true;
    }

    /// <summary>The inferred or declared shape of a value, when known.</summary>
    public IReadOnlyList<Dimension>? Shape(string value) => _shapes.TryGetValue(value, out var info) ? info.Shape : null;

    public int? Rank(string value) => Shape(value)?.Count;

    public DataType ElementType(string value) =>
        _shapes.TryGetValue(value, out var info) ? info.ElementType
        : Graph.Initializers.TryGetValue(value, out var t) ? t.ElementType : DataType.Undefined;

    /// <summary>Replaces the matched nodes by <paramref name="fused"/>, placed where the last of them was.</summary>
    public void Replace(IReadOnlyCollection<Node> matched, Node fused)
    {
        var nodes = Graph.Nodes;
        var last = matched.Max(n => nodes.IndexOf(n));
        var outputs = new HashSet<string>(fused.Outputs);
        foreach (var node in matched)
        {
            Unindex(node);
            // Values that only lived inside the pattern are gone; forget what was inferred about them.
            foreach (var o in node.Outputs)
                if (!outputs.Contains(o))
                {
                    Graph.ValueInfos.RemoveAll(v => v.Name == o);
                    _shapes.Remove(o);
                }
        }
        nodes[last] = fused;
        var removed = new HashSet<Node>(matched, ReferenceEqualityComparer.Instance);
        Index(fused);
        // Constant nodes that only fed the pattern (the 0.5, 1, eps of the decomposed form) go with it.
        foreach (var input in matched.SelectMany(n => n.Inputs).Distinct())
            if (Producer(input) is { OpType: "Constant", Domain: "" } constant && !removed.Contains(constant)
                && Readers(input).Count == 0 && !IsGraphOutput(input) && constant.Outputs.Count == 1)
            {
                Unindex(constant);
                removed.Add(constant);
            }
        nodes.RemoveAll(n => removed.Contains(n));
    }

    private void Index(Node node)
    {
        foreach (var o in node.Outputs)
            if (o.Length > 0) _producers[o] = node;
        foreach (var i in node.Inputs)
        {
            if (i.Length == 0) continue;
            if (!_readers.TryGetValue(i, out var list)) _readers[i] = list = new List<Node>();
            list.Add(node);
        }
    }

    private void Unindex(Node node)
    {
        foreach (var o in node.Outputs)
            if (o.Length > 0 && _producers.TryGetValue(o, out var p) && ReferenceEquals(p, node)) _producers.Remove(o);
        foreach (var i in node.Inputs)
            if (i.Length > 0 && _readers.TryGetValue(i, out var list)) list.RemoveAll(r => ReferenceEquals(r, node));
    }

    /// <summary>A name for a fused node that no other node has (nor had, so names stay unambiguous in messages).</summary>
    public string UniqueNodeName(string stem)
    {
        var name = stem;
        for (var i = 1; !_nodeNames.Add(name); i++) name = $"{stem}_{i}";
        return name;
    }
}
