namespace Sparrow.Graph;

/// <summary>One operator application. An empty input name means an omitted optional input, as in ONNX.</summary>
public sealed class Node
{
    /// <summary>A node of <paramref name="opType"/> reading <paramref name="inputs"/> and writing <paramref name="outputs"/> (value names, copied into lists).</summary>
    public Node(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string name = "", string domain = "")
    {
        OpType = opType;
        Inputs = inputs.ToList();
        Outputs = outputs.ToList();
        Name = name;
        Domain = domain;
    }

    /// <summary>The node's name; may be empty.</summary>
    public string Name { get; set; }

    /// <summary>The operator, e.g. "MatMul".</summary>
    public string OpType { get; set; }

    /// <summary>"" for the default ONNX domain ("ai.onnx" is normalised to "").</summary>
    public string Domain { get; set; }

    /// <summary>Names of the values the node reads; "" marks an omitted optional input.</summary>
    public List<string> Inputs { get; }

    /// <summary>Names of the values the node writes.</summary>
    public List<string> Outputs { get; }

    /// <summary>In the order the model declared them.</summary>
    public List<NodeAttribute> Attributes { get; } = new();

    /// <summary>Free-form documentation of the node.</summary>
    public string DocString { get; set; } = "";

    /// <summary>The node's name when it has one, else its op type and first output, for messages.</summary>
    public string DisplayName => Name.Length > 0 ? $"'{Name}' ({OpType})" : $"{OpType} -> '{Outputs.FirstOrDefault()}'";

    /// <summary>The attribute called <paramref name="name"/>, or null when the node has none.</summary>
    public NodeAttribute? FindAttribute(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) return a;
        return null;
    }

    /// <summary>The integer attribute <paramref name="name"/>, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ModelException">The attribute has another kind.</exception>
    public long GetInt(string name, long fallback) => FindAttribute(name)?.AsInt() ?? fallback;
    /// <summary>The float attribute <paramref name="name"/>, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ModelException">The attribute has another kind.</exception>
    public float GetFloat(string name, float fallback) => FindAttribute(name)?.AsFloat() ?? fallback;
    /// <summary>The string attribute <paramref name="name"/>, or <paramref name="fallback"/> when absent.</summary>
    /// <exception cref="ModelException">The attribute has another kind.</exception>
    public string GetString(string name, string fallback) => FindAttribute(name)?.AsString() ?? fallback;
    /// <summary>The integer list attribute <paramref name="name"/>, or null when absent.</summary>
    /// <exception cref="ModelException">The attribute has another kind.</exception>
    public long[]? GetInts(string name) => FindAttribute(name)?.AsInts();
    /// <summary>The float list attribute <paramref name="name"/>, or null when absent.</summary>
    /// <exception cref="ModelException">The attribute has another kind.</exception>
    public float[]? GetFloats(string name) => FindAttribute(name)?.AsFloats();

    /// <summary>Adds <paramref name="attribute"/>, replacing any attribute of the same name.</summary>
    public void SetAttribute(NodeAttribute attribute)
    {
        Attributes.RemoveAll(a => a.Name == attribute.Name);
        Attributes.Add(attribute);
    }

    /// <see cref="DisplayName"/>.
    public override string ToString() => DisplayName;
}
