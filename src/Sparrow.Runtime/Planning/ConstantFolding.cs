using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Planning;

/// <summary>
/// Evaluates every node whose inputs are all constant (initializers, Constant nodes, and Shape of a value
/// whose shape is fully known) and replaces it by initializers. This collapses the
/// Shape/Gather/Concat/Unsqueeze chains that exporters emit around Reshape.
/// </summary>
internal static class ConstantFolding
{
    /// <summary>Folded tensors larger than this stay computed at run time, so folding never bloats a model.</summary>
    public const int MaxFoldedElements = 1 << 20;

    public static int Run(Model model, SessionOptions options)
    {
        var graph = model.Graph;
        var context = new OperatorContext(model, options);
        var runContext = new RunContext(1, options.MaxTensorBytes) { FoldLimitElements = MaxFoldedElements };
        var folded = 0;
        var remaining = new List<Node>(graph.Nodes.Count);
        var graphInputs = new HashSet<string>(graph.Inputs.Select(i => i.Name));
        foreach (var node in graph.Nodes)
        {
            if (!CanFold(node, graph, graphInputs) || !OperatorRegistry.IsSupported(node.Domain, node.OpType))
            {
                remaining.Add(node);
                continue;
            }
            Tensor[] results;
            try
            {
                var op = OperatorRegistry.Create(node, context);
                var args = node.Inputs.Select(i => i.Length == 0 ? null : graph.Initializers[i]).ToArray();
                results = op.Run(args, runContext);
            }
            catch (TensorLimitException e)
            {
                // Every input is constant, so every run would ask for the same tensor: fail now, not at the first Run.
                throw new ModelException($"node {node.DisplayName}: {e.Message}", e);
            }
            catch (FoldDeferredException)
            {
                // Too large to keep as a constant (checked before allocating it): computed at run time instead.
                remaining.Add(node);
                continue;
            }
            catch (Exception e) when (e is ModelException or InvalidOperationException or ArgumentException or NotSupportedException)
            {
                // Leave the node to fail at run time, where the error names the inputs that caused it.
                remaining.Add(node);
                continue;
            }
            if (results.Length < node.Outputs.Count(o => o.Length > 0) || results.Any(r => r.Length > MaxFoldedElements))
            {
                foreach (var r in results) r.Dispose();
                remaining.Add(node);
                continue;
            }
            for (var i = 0; i < node.Outputs.Count; i++)
                if (node.Outputs[i].Length > 0) graph.Initializers[node.Outputs[i]] = results[i];
            folded++;
        }
        graph.Nodes.Clear();
        graph.Nodes.AddRange(remaining);
        return folded;
    }

    private static bool CanFold(Node node, ModelGraph graph, HashSet<string> graphInputs)
    {
        if (node.Domain.Length != 0) return false;
        // Random generators must not be frozen into constants.
        if (node.OpType.StartsWith("Random", StringComparison.Ordinal)) return false;
        foreach (var i in node.Inputs)
        {
            if (i.Length == 0) continue;
            // A graph input that has an initializer is only a default: callers may override it.
            if (!graph.Initializers.ContainsKey(i) || graphInputs.Contains(i)) return false;
        }
        return true;
    }
}
