using System.Text.RegularExpressions;
using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Cli.Execution;

/// <summary>One layer's weights: tensors that share a name prefix.</summary>
internal sealed record ParameterGroup(string Name, int Tensors, long Parameters);

/// <summary>
/// Groups a model's weights (its floating-point initializers; integer ones are shapes and indices, not
/// parameters) by layer, from their names: "encoder.layer.3.attention.self.query.bias" belongs to
/// "encoder.layer.3", "conv1.weight" to "conv1". Exporters often give MatMul weights bare numbers for
/// names; those join the layer of the nearest named weight downstream (the bias added to their product).
/// </summary>
internal static partial class ParameterGroups
{
    public const string Unnamed = "(unnamed)";

    public static bool IsParameter(Tensor t) => t.ElementType is DataType.Float32 or DataType.Float64 or DataType.Float16;

    public static long Total(ModelGraph graph) => graph.Initializers.Values.Where(IsParameter).Sum(t => (long)t.Length);

    public static IReadOnlyList<ParameterGroup> Compute(ModelGraph graph)
    {
        var consumers = graph.ConsumerMap();
        var groups = new Dictionary<string, (int Order, int Tensors, long Parameters)>();
        foreach (var (name, tensor) in graph.Initializers)
        {
            if (!IsParameter(tensor)) continue;
            var group = HasLetter(name) ? GroupOf(name) : NearestNamedGroup(graph, consumers, name) ?? Unnamed;
            var g = groups.TryGetValue(group, out var found) ? found : (Order: groups.Count, Tensors: 0, Parameters: 0L);
            groups[group] = (g.Order, g.Tensors + 1, g.Parameters + tensor.Length);
        }
        return groups.OrderBy(kv => kv.Value.Order).Select(kv => new ParameterGroup(kv.Key, kv.Value.Tensors, kv.Value.Parameters)).ToArray();
    }

    /// <summary>The name up to its first numeric part ("encoder.layer.0"), else without its last part ("pooler.dense").</summary>
    internal static string GroupOf(string name)
    {
        var parts = Separators().Split(name);
        for (var i = 1; i < parts.Length; i++)
            if (parts[i].Length > 0 && parts[i].All(char.IsAsciiDigit))
                return string.Join('.', parts[..(i + 1)]);
        return parts.Length > 1 ? string.Join('.', parts[..^1]) : name;
    }

    private static bool HasLetter(string name) => name.Any(char.IsLetter);

    /// <summary>Walks from the nodes that read an unnamed weight down to the first named weight (a few steps at most).</summary>
    private static string? NearestNamedGroup(ModelGraph graph, Dictionary<string, List<Node>> consumers, string name)
    {
        var frontier = new List<string> { name };
        var seen = new HashSet<string> { name };
        for (var depth = 0; depth < 4 && frontier.Count > 0; depth++)
        {
            var next = new List<string>();
            foreach (var value in frontier)
            {
                if (!consumers.TryGetValue(value, out var nodes)) continue;
                foreach (var node in nodes)
                {
                    foreach (var input in node.Inputs)
                        if (input != name && HasLetter(input) && graph.Initializers.TryGetValue(input, out var t) && IsParameter(t))
                            return GroupOf(input);
                    foreach (var output in node.Outputs)
                        if (output.Length > 0 && seen.Add(output)) next.Add(output);
                }
            }
            frontier = next;
        }
        return null;
    }

    [GeneratedRegex(@"[./:]")]
    private static partial Regex Separators();
}
