using Sparrow.Graph;

namespace Sparrow.Runtime.Planning;

/// <summary>Removes nodes and initializers that no graph output depends on.</summary>
internal static class DeadNodeElimination
{
    public static void Run(ModelGraph graph)
    {
        var producers = graph.ProducerMap();
        var needed = new HashSet<string>();
        var liveNodes = new HashSet<Node>();
        var work = new Stack<string>(graph.Outputs.Select(o => o.Name));
        while (work.Count > 0)
        {
            var value = work.Pop();
            if (!needed.Add(value)) continue;
            if (!producers.TryGetValue(value, out var node) || !liveNodes.Add(node)) continue;
            foreach (var input in node.Inputs) if (input.Length > 0) work.Push(input);
        }
        graph.Nodes.RemoveAll(n => !liveNodes.Contains(n));
        var inputs = new HashSet<string>(graph.Inputs.Select(v => v.Name));
        foreach (var name in graph.Initializers.Keys.ToArray())
            if (!needed.Contains(name) && !inputs.Contains(name)) graph.Initializers.Remove(name);
    }
}
