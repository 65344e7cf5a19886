namespace Sparrow.Graph;

/// <summary>One operator application. An empty input name means an omitted optional input, as in ONNX.</summary>
public sealed class Node
{
    public Node(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string name = "", string domain = "")
    {
        OpType = opType;
        Inputs = inputs.ToList();
        Outputs = outputs.ToList();
        Name = name;
        Domain = domain;
    }

    public string Name { get; set; }

    public string OpType { get; set; }

    /// <summary>"" for the default ONNX domain ("ai.onnx" is normalised to "").</summary>
    public string Domain { get; set; }

    public List<string> Inputs { get; }

    public List<string> Outputs { get; }

    /// <summary>In the order the model declared them.</summary>
    public List<NodeAttribute> Attributes { get; } = new();

    public string DocString { get; set; } = "";

    /// <summary>The node's name when it has one, else its op type and first output, for messages.</summary>
    public string DisplayName => Name.Length > 0 ? $"'{Name}' ({OpType})" : $"{OpType} -> '{Outputs.FirstOrDefault()}'";

    public NodeAttribute? FindAttribute(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) return a;
        return null;
    }

    public long GetInt(string name, long fallback) => FindAttribute(name)?.AsInt() ?? fallback;
    public float GetFloat(string name, float fallback) => FindAttribute(name)?.AsFloat() ?? fallback;
    public string GetString(string name, string fallback) => FindAttribute(name)?.AsString() ?? fallback;
    public long[]? GetInts(string name) => FindAttribute(name)?.AsInts();
    public float[]? GetFloats(string name) => FindAttribute(name)?.AsFloats();

    public void SetAttribute(NodeAttribute attribute)
    {
        Attributes.RemoveAll(a => a.Name == attribute.Name);
        Attributes.Add(attribute);
    }

    public override string ToString() => DisplayName;
}
