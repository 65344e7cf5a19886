using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Runtime.Sparsity;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Planning;

/// <summary>
/// A graph compiled for running: nodes in dependency order, each value given a slot number, and for each
/// step the intermediate values whose last reader it is (freed right after, so memory is reused).
/// Immutable once built, so one plan serves concurrent runs.
/// </summary>
internal sealed class ExecutionPlan
{
    public sealed record Step(Operator Operator, int[] Inputs, int[] Outputs, int[] FreeAfter);

    public required Step[] Steps { get; init; }

    public required int SlotCount { get; init; }

    /// <summary>Slots of constant tensors, filled before every run and never freed.</summary>
    public required (int Slot, Tensor Tensor)[] Constants { get; init; }

    public required Dictionary<string, int> InputSlots { get; init; }

    public required (string Name, int Slot)[] OutputSlots { get; init; }

    /// <summary>The kernel chosen for each constant MatMul, Gemm and Linear weight.</summary>
    public required IReadOnlyList<WeightKernelChoice> WeightKernels { get; init; }

    /// <summary>Initializers that every reader keeps in its own form: the plan does not hold them.</summary>
    public required IReadOnlyList<string> ReleasedInitializers { get; init; }

    /// <summary>Bytes of the weights the plan holds: constant tensors plus the operators' packed and sparse forms.</summary>
    public required long WeightBytes { get; init; }

    public static ExecutionPlan Build(Model model, SessionOptions options)
    {
        var graph = model.Graph;
        var slots = new Dictionary<string, int>();
        int SlotOf(string name) => slots.TryGetValue(name, out var s) ? s : slots[name] = slots.Count;

        var available = new HashSet<string>(graph.Initializers.Keys);
        var inputSlots = new Dictionary<string, int>();
        foreach (var input in graph.Inputs)
        {
            inputSlots[input.Name] = SlotOf(input.Name);
            available.Add(input.Name);
        }

        var order = TopologicalOrder(graph, available);
        var selector = new WeightKernelSelector(options);
        var context = new OperatorContext(model, options, selector);
        var operators = order.Select(n => OperatorRegistry.Create(n, context)).ToArray();
        selector.SaveCache();

        // An initializer whose every reader keeps its own form of it (a packed or sparse weight) is not held.
        var released = new HashSet<string>(graph.Initializers.Keys);
        released.ExceptWith(graph.Inputs.Select(i => i.Name));
        released.ExceptWith(graph.Outputs.Select(o => o.Name));
        foreach (var n in order)
            for (var i = 0; i < n.Inputs.Count; i++)
                if (!context.OwnsInput(n, i)) released.Remove(n.Inputs[i]);
        var constants = new List<(int, Tensor)>();
        foreach (var (name, tensor) in graph.Initializers)
            if (!released.Contains(name)) constants.Add((SlotOf(name), tensor));

        var outputs = graph.Outputs.Select(o => (o.Name, SlotOf(o.Name))).ToArray();
        var keep = new HashSet<int>(outputs.Select(o => o.Item2));
        keep.UnionWith(constants.Select(c => c.Item1));
        keep.UnionWith(inputSlots.Values);

        // The last step that reads each slot frees it.
        var lastUse = new Dictionary<int, int>();
        var steps = new (int[] In, int[] Out)[order.Count];
        for (var i = 0; i < order.Count; i++)
        {
            var n = order[i];
            var ins = n.Inputs.Select((x, j) => x.Length == 0 || context.OwnsInput(n, j) ? -1 : SlotOf(x)).ToArray();
            var outs = n.Outputs.Select(x => x.Length == 0 ? -1 : SlotOf(x)).ToArray();
            foreach (var s in ins) if (s >= 0) lastUse[s] = i;
            // An output nobody reads is freed by its own step.
            foreach (var s in outs) if (s >= 0 && !lastUse.ContainsKey(s)) lastUse[s] = i;
            steps[i] = (ins, outs);
        }
        // Re-scan outputs: a value produced at step i and read later has its last use updated above only if the
        // reader comes later in the loop, which topological order guarantees.
        var freeAfter = new List<int>[order.Count];
        for (var i = 0; i < order.Count; i++) freeAfter[i] = new List<int>();
        foreach (var (slot, step) in lastUse)
            if (!keep.Contains(slot)) freeAfter[step].Add(slot);

        return new ExecutionPlan
        {
            Steps = order.Select((n, i) => new Step(operators[i], steps[i].In, steps[i].Out, freeAfter[i].Distinct().ToArray())).ToArray(),
            SlotCount = slots.Count,
            Constants = constants.ToArray(),
            InputSlots = inputSlots,
            OutputSlots = outputs,
            WeightKernels = selector.Choices.ToArray(),
            ReleasedInitializers = released.ToArray(),
            WeightBytes = constants.Sum(c => (long)c.Item2.Length * DataTypes.SizeOf(c.Item2.ElementType))
                + selector.PreparedWeights.Sum(w => w.Bytes),
        };
    }

    /// <summary>Kahn's algorithm; names the node at fault for a missing input or a cycle.</summary>
    private static List<Node> TopologicalOrder(ModelGraph graph, HashSet<string> available)
    {
        var producers = new Dictionary<string, Node>();
        foreach (var n in graph.Nodes)
            foreach (var o in n.Outputs)
            {
                if (o.Length == 0) continue;
                if (available.Contains(o) || !producers.TryAdd(o, n))
                    throw new ModelException($"node {n.DisplayName}: value '{o}' is produced more than once.");
            }
        foreach (var n in graph.Nodes)
            foreach (var i in n.Inputs)
                if (i.Length > 0 && !available.Contains(i) && !producers.ContainsKey(i))
                    throw new ModelException($"node {n.DisplayName}: input '{i}' is not produced by any node, initializer or graph input.");
        foreach (var o in graph.Outputs)
            if (!available.Contains(o.Name) && !producers.ContainsKey(o.Name))
                throw new ModelException($"graph output '{o.Name}' is not produced by any node.");

        var pending = new Dictionary<Node, int>();
        var readers = new Dictionary<string, List<Node>>();
        foreach (var n in graph.Nodes)
        {
            var waits = 0;
            foreach (var i in n.Inputs.Where(i => i.Length > 0 && producers.ContainsKey(i)).Distinct())
            {
                waits++;
                if (!readers.TryGetValue(i, out var list)) readers[i] = list = new List<Node>();
                list.Add(n);
            }
            pending[n] = waits;
        }
        var ready = new Queue<Node>(graph.Nodes.Where(n => pending[n] == 0));
        var order = new List<Node>(graph.Nodes.Count);
        while (ready.Count > 0)
        {
            var n = ready.Dequeue();
            order.Add(n);
            foreach (var o in n.Outputs)
                if (o.Length > 0 && readers.TryGetValue(o, out var list))
                    foreach (var r in list)
                        if (--pending[r] == 0) ready.Enqueue(r);
        }
        if (order.Count != graph.Nodes.Count)
        {
            var stuck = graph.Nodes.First(n => pending[n] > 0);
            throw new ModelException($"node {stuck.DisplayName}: the graph has a cycle through this node.");
        }
        return order;
    }
}
