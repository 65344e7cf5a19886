using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Cli.Execution;

/// <summary>
/// Makes inputs for a model from its declared inputs: floats from a seeded normal distribution; integers
/// that index a constant table through Gather within that table's size; other integers from {0, 1}.
/// Dynamic dimensions take the batch size (an input's first dimension) or the sequence length (any other).
/// </summary>
internal sealed class InputGenerator
{
    private readonly Model _model;
    private readonly int _batch;
    private readonly int _sequence;
    private readonly Dictionary<string, long> _indexBounds;
    private readonly Dictionary<string, int> _symbols = new();
    private readonly bool _inputsCanBeGiven;

    /// <param name="inputsCanBeGiven">Whether the command takes <c>--input NAME=FILE.npy</c> (then an input that cannot be generated says so).</param>
    public InputGenerator(Model model, int batch, int sequence, bool inputsCanBeGiven = false)
    {
        if (batch < 1) throw new UsageException($"--batch must be at least 1, got {batch}.");
        if (sequence < 1) throw new UsageException($"--seq must be at least 1, got {sequence}.");
        _model = model;
        _batch = batch;
        _sequence = sequence;
        _inputsCanBeGiven = inputsCanBeGiven;
        _indexBounds = IndexBounds(model.Graph);
    }

    /// <summary>What each generated input holds, for the report.</summary>
    public Dictionary<string, string> Descriptions { get; } = new();

    /// <summary>
    /// Inputs for every required model input; those in <paramref name="given"/> are used as they are (and fix
    /// the sizes of the dimension names they carry). The caller disposes the generated tensors.
    /// </summary>
    public Dictionary<string, Tensor> Generate(int seed, IReadOnlyDictionary<string, Tensor>? given = null)
    {
        var inputs = _model.Graph.RequiredInputs.ToArray();
        given ??= new Dictionary<string, Tensor>();
        foreach (var name in given.Keys)
            if (inputs.All(i => i.Name != name))
                throw new UsageException($"--input {name}: the model has no input '{name}'; its inputs are: {string.Join(", ", inputs.Select(i => i.Name))}.");
        foreach (var info in inputs)
            if (given.TryGetValue(info.Name, out var t) && info.Shape is { } declared && declared.Count == t.Rank)
                for (var d = 0; d < t.Rank; d++)
                    if (declared[d].Symbol is { } symbol) _symbols.TryAdd(symbol, t.Shape[d]);

        var random = new Random(seed);
        var result = new Dictionary<string, Tensor>();
        foreach (var info in inputs)
        {
            if (given.TryGetValue(info.Name, out var t))
            {
                result[info.Name] = t;
                Descriptions[info.Name] = $"{DataTypes.Name(t.ElementType)}{TensorShape.Format(t.Shape)} from file";
                continue;
            }
            var shape = ShapeOf(info);
            var (tensor, what) = Fill(info, shape, random);
            result[info.Name] = tensor;
            Descriptions[info.Name] = $"{DataTypes.Name(tensor.ElementType)}{TensorShape.Format(shape)} {what}";
        }
        return result;
    }

    private string HowToGive(ValueInfo info) => _inputsCanBeGiven ? $"; give it with --input {info.Name}=FILE.npy" : "";

    /// <summary>
    /// The batch a model's inputs fix, or null when it takes any (some input's first dimension is dynamic, or no input
    /// has a batch dimension). Inputs of rank 1 or 0 (scales, flags) have no batch dimension and do not count.
    /// </summary>
    public static int? FixedBatch(ModelGraph graph)
    {
        var firsts = graph.RequiredInputs.Where(i => i.Shape is { Count: > 1 }).Select(i => i.Shape![0]).ToArray();
        if (firsts.Length == 0 || firsts.Any(d => !d.IsFixed)) return null;
        var sizes = firsts.Select(d => d.Value!.Value).Distinct().ToArray();
        // Inputs that fix different first dimensions have no batch in common: a run is one item.
        return sizes.Length == 1 && sizes[0] <= int.MaxValue ? (int)sizes[0] : 1;
    }

    /// <summary>The shape to generate for an input; dimension names seen before keep their size.</summary>
    public int[] ShapeOf(ValueInfo info)
    {
        if (info.Shape is null)
            throw new UsageException($"input '{info.Name}' has no declared shape{HowToGive(info)}.");
        var shape = new int[info.Shape.Count];
        for (var d = 0; d < shape.Length; d++)
        {
            var dim = info.Shape[d];
            if (dim.Value is { } v)
            {
                if (v < 0 || v > int.MaxValue) throw new UsageException($"input '{info.Name}' declares dimension {v}, which cannot be generated.");
                shape[d] = (int)v;
                continue;
            }
            // The batch is the first dimension only: in [1, seq] the dynamic dimension is the sequence.
            var size = d == 0 ? _batch : _sequence;
            if (dim.Symbol is { } symbol)
            {
                if (_symbols.TryGetValue(symbol, out var known)) size = known;
                else _symbols[symbol] = size;
            }
            shape[d] = size;
        }
        TensorShape.Product(shape);
        return shape;
    }

    private (Tensor Tensor, string What) Fill(ValueInfo info, int[] shape, Random random)
    {
        var bound = _indexBounds.GetValueOrDefault(info.Name);
        var intWhat = bound > 0 ? $"uniform in [0, {bound})" : "from {0, 1}";
        var high = bound > 0 ? bound : 2;
        switch (info.ElementType)
        {
            case DataType.Float32:
            {
                var t = Tensor<float>.Allocate(shape, clear: false);
                var span = t.Span;
                for (var i = 0; i < span.Length; i++) span[i] = (float)Normal(random);
                return (t, "normal(0, 1)");
            }
            case DataType.Float64:
            {
                var t = Tensor<double>.Allocate(shape, clear: false);
                var span = t.Span;
                for (var i = 0; i < span.Length; i++) span[i] = Normal(random);
                return (t, "normal(0, 1)");
            }
            case DataType.Float16:
            {
                var t = Tensor<Half>.Allocate(shape, clear: false);
                var span = t.Span;
                for (var i = 0; i < span.Length; i++) span[i] = (Half)Normal(random);
                return (t, "normal(0, 1)");
            }
            case DataType.Int64:
            {
                var t = Tensor<long>.Allocate(shape, clear: false);
                var span = t.Span;
                for (var i = 0; i < span.Length; i++) span[i] = random.NextInt64(high);
                return (t, intWhat);
            }
            case DataType.Int32:
            {
                var t = Tensor<int>.Allocate(shape, clear: false);
                var span = t.Span;
                for (var i = 0; i < span.Length; i++) span[i] = (int)random.NextInt64(Math.Min(high, int.MaxValue));
                return (t, intWhat);
            }
            case DataType.Bool:
            {
                var t = Tensor<bool>.Allocate(shape, clear: false);
                var span = t.Span;
                for (var i = 0; i < span.Length; i++) span[i] = random.Next(2) == 1;
                return (t, "from {false, true}");
            }
            case DataType.UInt8:
            {
                var t = Tensor<byte>.Allocate(shape, clear: false);
                var span = t.Span;
                for (var i = 0; i < span.Length; i++) span[i] = (byte)random.Next(2);
                return (t, "from {0, 1}");
            }
            default:
                throw new UsageException($"input '{info.Name}' is {DataTypes.Name(info.ElementType)}, which Sparrow cannot generate{HowToGive(info)}.");
        }
    }

    /// <summary>Standard normal by Box-Muller: deterministic for a seed, unlike anything that depends on the runtime's RNG internals.</summary>
    private static double Normal(Random random)
    {
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Ops that pass index values through unchanged (or only reshape them).</summary>
    private static readonly HashSet<string> PassThrough =
        new() { "Cast", "Unsqueeze", "Squeeze", "Reshape", "Flatten", "Identity", "Expand", "Transpose" };

    /// <summary>
    /// For each graph input that reaches the indices of a Gather over a constant table (directly or through
    /// Cast, Unsqueeze and the like), the size of the gathered axis; the smallest when there are several.
    /// </summary>
    internal static Dictionary<string, long> IndexBounds(ModelGraph graph)
    {
        var inputs = graph.RequiredInputs.Select(i => i.Name).ToHashSet();
        var producers = graph.ProducerMap();
        var bounds = new Dictionary<string, long>();
        foreach (var gather in graph.Nodes.Where(n => n.OpType is "Gather" or "GatherElements" && n.Domain.Length == 0 && n.Inputs.Count >= 2))
        {
            var table = ConstantOf(graph, producers, gather.Inputs[0]);
            if (table is null || table.Rank == 0) continue;
            var axis = (int)gather.GetInt("axis", 0);
            if (axis < 0) axis += table.Rank;
            if (axis < 0 || axis >= table.Rank) continue;
            var name = gather.Inputs[1];
            for (var steps = 0; steps < 16 && !inputs.Contains(name); steps++)
            {
                if (!producers.TryGetValue(name, out var p) || !PassThrough.Contains(p.OpType) || p.Inputs.Count == 0) break;
                name = p.Inputs[0];
            }
            if (!inputs.Contains(name)) continue;
            long size = table.Shape[axis];
            bounds[name] = bounds.TryGetValue(name, out var b) ? Math.Min(b, size) : size;
        }
        return bounds;
    }

    private static Tensor? ConstantOf(ModelGraph graph, Dictionary<string, Node> producers, string name)
    {
        if (graph.Initializers.TryGetValue(name, out var t)) return t;
        if (producers.TryGetValue(name, out var p) && p.OpType == "Constant" && p.FindAttribute("value") is { Kind: AttributeKind.Tensor } a)
            return a.AsTensor();
        return null;
    }
}
