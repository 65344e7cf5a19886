using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Tests;

/// <summary>Builds and runs a model of one node in code, with graph inputs typed and shaped after the given tensors.</summary>
internal static class SingleNodeModel
{
    public static Model Build(string opType, IReadOnlyList<(string Name, Tensor Value)> inputs, int outputCount = 1,
        long opset = 17, params NodeAttribute[] attributes)
    {
        var graph = new ModelGraph { Name = opType.ToLowerInvariant() };
        foreach (var (name, value) in inputs)
            graph.Inputs.Add(new ValueInfo(name, value.ElementType, value.Shape.ToArray().Select(d => Dimension.Fixed(d)).ToArray()));
        var outputs = Enumerable.Range(0, outputCount).Select(i => $"out{i}").ToArray();
        var node = new Node(opType, inputs.Select(i => i.Name), outputs, name: "node0");
        node.Attributes.AddRange(attributes);
        graph.Nodes.Add(node);
        foreach (var o in outputs) graph.Outputs.Add(new ValueInfo(o, DataType.Undefined, null));
        var model = new Model(graph);
        model.OpsetImports[""] = opset;
        return model;
    }

    /// <summary>Runs the node and returns its first output (the caller disposes it).</summary>
    public static Tensor Run(string opType, IReadOnlyList<(string Name, Tensor Value)> inputs, long opset = 17, params NodeAttribute[] attributes)
    {
        // Operator semantics include NaN and infinity: the session's safety checks stay off here.
        using var session = new InferenceSession(Build(opType, inputs, 1, opset, attributes), new SessionOptions { IntraOpThreads = 1, CheckWeights = false, CheckInputs = false });
        var results = session.Run(inputs.ToDictionary(i => i.Name, i => i.Value));
        return results["out0"];
    }

    public static Tensor Run(string opType, params Tensor[] inputs) =>
        Run(opType, inputs.Select((t, i) => ($"in{i}", t)).ToArray());
}
