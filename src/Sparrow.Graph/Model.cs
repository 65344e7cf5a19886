namespace Sparrow.Graph;

/// <summary>A model: its graph plus what ONNX keeps around it (opsets, producer, metadata).</summary>
public sealed class Model
{
    /// <summary>A model around <paramref name="graph"/>, with the default opset (ai.onnx 17) and producer "Sparrow".</summary>
    public Model(ModelGraph graph) => Graph = graph;

    /// <summary>The main graph: nodes, inputs, outputs and weights.</summary>
    public ModelGraph Graph { get; }

    /// <summary>The ONNX IR version written on export.</summary>
    public long IrVersion { get; set; } = 8;

    /// <summary>Operator set version per domain; "" is the default ONNX domain.</summary>
    public Dictionary<string, long> OpsetImports { get; } = new() { [""] = 17 };

    /// <summary>The tool that made the model, as ONNX records it.</summary>
    public string ProducerName { get; set; } = "Sparrow";

    /// <summary>The version of the tool that made the model.</summary>
    public string ProducerVersion { get; set; } = "";

    /// <summary>The model's domain (reverse-DNS namespace), as ONNX records it; often empty.</summary>
    public string Domain { get; set; } = "";

    /// <summary>The model's own version number, as ONNX records it.</summary>
    public long ModelVersion { get; set; }

    /// <summary>Free-form documentation of the model.</summary>
    public string DocString { get; set; } = "";

    /// <summary>Key-value metadata, in the order the model declared it.</summary>
    public List<KeyValuePair<string, string>> MetadataProps { get; } = new();

    /// <summary>
    /// The model's local functions (ONNX FunctionProto bytes), kept as read so that a model saved again (pruned, say)
    /// still defines the operators its nodes call. Sparrow does not run them.
    /// </summary>
    public List<byte[]> Functions { get; } = new();

    /// <summary>
    /// A copy whose graph structure (nodes, lists, metadata) may be changed freely; tensors are shared,
    /// since passes replace tensors rather than write into them.
    /// </summary>
    public Model Clone()
    {
        var copy = new Model(Graph.Clone())
        {
            IrVersion = IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = ProducerVersion,
            Domain = Domain,
            ModelVersion = ModelVersion,
            DocString = DocString,
        };
        copy.OpsetImports.Clear();
        foreach (var kv in OpsetImports) copy.OpsetImports[kv.Key] = kv.Value;
        copy.MetadataProps.AddRange(MetadataProps);
        copy.Functions.AddRange(Functions);
        return copy;
    }

    /// <summary>The default-domain opset this model was written for.</summary>
    public long Opset => OpsetImports.TryGetValue("", out var v) ? v : 1;
}
