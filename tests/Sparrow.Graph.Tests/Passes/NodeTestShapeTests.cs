using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Graph.Passes;
using Sparrow.Tensors;
using Sparrow.TestSupport;
using Xunit.Abstractions;

namespace Sparrow.Graph.Tests.Passes;

/// <summary>
/// Shape inference and the fusions over every ONNX node test model: wherever inference claims a fixed shape
/// or a type for an output, it must be the shape and type of the expected output on disk; and no pass may
/// throw on any of these models.
/// </summary>
public class NodeTestShapeTests
{
    private readonly ITestOutputHelper _output;

    public NodeTestShapeTests(ITestOutputHelper output) => _output = output;

    [NodeTestsFact]
    public void Inferred_shapes_match_the_expected_outputs_of_every_node_test()
    {
        int models = 0, checkedOutputs = 0, fixedShapes = 0;
        var mismatches = new List<string>();
        foreach (var folder in Directory.GetDirectories(SharedFolder.NodeTests!, "test_*").Order(StringComparer.Ordinal))
        {
            var modelPath = Path.Combine(folder, "model.onnx");
            var dataSet = Path.Combine(folder, "test_data_set_0");
            if (!File.Exists(modelPath) || !Directory.Exists(dataSet)) continue;
            Model model;
            try
            {
                model = OnnxImporter.Load(modelPath);
            }
            catch (ModelException)
            {
                continue;
            }
            models++;
            // Only what the inputs imply counts: forget the declared shapes of outputs and intermediates.
            var declaredOutputs = model.Graph.Outputs.ToList();
            model.Graph.ValueInfos.Clear();
            model.Graph.Outputs.Clear();
            model.Graph.Outputs.AddRange(declaredOutputs.Select(o => new ValueInfo(o.Name, DataType.Undefined, null)));
            var shapes = ShapeInference.Infer(model);
            for (var i = 0; i < model.Graph.Outputs.Count; i++)
            {
                var expectedPath = Path.Combine(dataSet, $"output_{i}.pb");
                if (!File.Exists(expectedPath) || !shapes.TryGetValue(model.Graph.Outputs[i].Name, out var inferred)) continue;
                Tensor expected;
                try
                {
                    expected = OnnxImporter.LoadTensor(expectedPath);
                }
                catch (Exception e) when (e is ModelException or NotSupportedException or ArgumentException)
                {
                    continue;
                }
                checkedOutputs++;
                var name = $"{Path.GetFileName(folder)} output {i}";
                if (inferred.ElementType != DataType.Undefined && inferred.ElementType != expected.ElementType)
                    mismatches.Add($"{name}: type {DataTypes.Name(inferred.ElementType)}, expected {DataTypes.Name(expected.ElementType)}");
                if (inferred.Shape is not { } shape) continue;
                if (shape.Count != expected.Rank)
                {
                    mismatches.Add($"{name}: rank {shape.Count} [{string.Join(",", shape)}], expected {TensorShape.Format(expected.Shape)}");
                    continue;
                }
                if (shape.All(d => d.IsFixed)) fixedShapes++;
                for (var d = 0; d < shape.Count; d++)
                    if (shape[d].Value is { } v && v != expected.Shape[d])
                    {
                        mismatches.Add($"{name}: [{string.Join(",", shape)}], expected {TensorShape.Format(expected.Shape)}");
                        break;
                    }
            }
        }
        _output.WriteLine($"{models} models, {checkedOutputs} outputs checked, {fixedShapes} fully fixed shapes inferred, {mismatches.Count} mismatches");
        foreach (var m in mismatches) _output.WriteLine(m);
        Assert.True(models > 0, "no node test models were read");
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches.Take(40)));
    }

    [NodeTestsFact]
    public void Fusions_never_throw_and_keep_every_graph_output_produced()
    {
        var fused = 0;
        foreach (var folder in Directory.GetDirectories(SharedFolder.NodeTests!, "test_*").Order(StringComparer.Ordinal))
        {
            var modelPath = Path.Combine(folder, "model.onnx");
            if (!File.Exists(modelPath)) continue;
            Model model;
            try
            {
                model = OnnxImporter.Load(modelPath);
            }
            catch (ModelException)
            {
                continue;
            }
            var counts = Fusions.Apply(model);
            if (counts.NodesRemoved > 0)
            {
                fused++;
                _output.WriteLine($"{Path.GetFileName(folder)}: {counts}");
            }
            var produced = new HashSet<string>(model.Graph.Nodes.SelectMany(n => n.Outputs));
            produced.UnionWith(model.Graph.Inputs.Select(i => i.Name));
            produced.UnionWith(model.Graph.Initializers.Keys);
            foreach (var output in model.Graph.Outputs)
                Assert.True(produced.Contains(output.Name), $"{Path.GetFileName(folder)}: output '{output.Name}' is no longer produced");
        }
        _output.WriteLine($"{fused} models had something fused");
    }
}
