using Sparrow.Tensors;

namespace Sparrow.Graph;

/// <summary>
/// The graph IR: nodes in a valid execution order, declared inputs and outputs, and initializers
/// (constant tensors, the weights). Values are named by strings, as in ONNX.
/// </summary>
public sealed class ModelGraph
{
    /// <summary>The graph's name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Free-form documentation of the graph.</summary>
    public string DocString { get; set; } = "";

    /// <summary>The nodes; the importer keeps the file's order, which ONNX requires to be topological.</summary>
    public List<Node> Nodes { get; } = new();

    /// <summary>The graph inputs, weights excluded.</summary>
    public List<ValueInfo> Inputs { get; } = new();

    /// <summary>The graph outputs.</summary>
    public List<ValueInfo> Outputs { get; } = new();

    /// <summary>Declared (or inferred) types of intermediate values.</summary>
    public List<ValueInfo> ValueInfos { get; } = new();

    /// <summary>Constant tensors by name, in the order the model declared them.</summary>
    public OrderedDictionary<string, Tensor> Initializers { get; } = new();

    /// <summary>Graph inputs that are not initializers: what a caller must feed.</summary>
    public IEnumerable<ValueInfo> RequiredInputs => Inputs.Where(i => !Initializers.ContainsKey(i.Name));

    /// <summary>The node that produces each value.</summary>
    public Dictionary<string, Node> ProducerMap()
    {
        var map = new Dictionary<string, Node>();
        foreach (var n in Nodes)
            foreach (var o in n.Outputs)
                if (o.Length > 0) map[o] = n;
        return map;
    }

    /// <summary>The nodes that read each value.</summary>
    public Dictionary<string, List<Node>> ConsumerMap()
    {
        var map = new Dictionary<string, List<Node>>();
        foreach (var n in Nodes)
            foreach (var i in n.Inputs)
            {
                if (i.Length == 0) continue;
                if (!map.TryGetValue(i, out var list)) map[i] = list = new List<Node>();
                list.Add(n);
            }
        return map;
    }

    /// <summary>A structural copy: new node and list objects, the same tensors and attribute values.</summary>
    public ModelGraph Clone()
    {
        var copy = new ModelGraph { Name = Name, DocString = DocString };
        foreach (var n in Nodes)
        {
            var node = new Node(n.OpType, n.Inputs, n.Outputs, n.Name, n.Domain) { DocString = n.DocString };
            node.Attributes.AddRange(n.Attributes);
            copy.Nodes.Add(node);
        }
        copy.Inputs.AddRange(Inputs.Select(Copy));
        copy.Outputs.AddRange(Outputs.Select(Copy));
        copy.ValueInfos.AddRange(ValueInfos.Select(Copy));
        foreach (var (name, tensor) in Initializers) copy.Initializers[name] = tensor;
        return copy;
    }

    private static ValueInfo Copy(ValueInfo v) => new(v.Name, v.ElementType, v.Shape) { DocString = v.DocString, OtherType = v.OtherType };

    /// <summary>The number of weight elements: the sum of the initializers' lengths.</summary>
    public long ParameterCount => Initializers.Values.Sum(t => (long)t.Length);

    /// <summary>The declared type of the input, output or intermediate value called <paramref name="name"/>, or null.</summary>
    public ValueInfo? FindValueInfo(string name) =>
        Inputs.Concat(Outputs).Concat(ValueInfos).FirstOrDefault(v => v.Name == name);
}
