namespace Sparrow.Graph;

/// <summary>A model: its graph plus what ONNX keeps around it (opsets, producer, metadata).</summary>
public sealed class Model
{
    public Model(ModelGraph graph) => Graph = graph;

    public ModelGraph Graph { get; }

    public long IrVersion { get; set; } = 8;

    /// <summary>Operator set version per domain; "" is the default ONNX domain.</summary>
    public Dictionary<string, long> OpsetImports { get; } = new() { [""] = 17 };

    public string ProducerName { get; set; } = "Sparrow";

    public string ProducerVersion { get; set; } = "";

    public string Domain { get; set; } = "";

    public long ModelVersion { get; set; }

    public string DocString { get; set; } = "";

    public List<KeyValuePair<string, string>> MetadataProps { get; } = new();

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
        return copy;
    }

    /// <summary>The default-domain opset this model was written for.</summary>
    public long Opset => OpsetImports.TryGetValue("", out var v) ? v : 1;
}
