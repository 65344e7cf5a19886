using Sparrow.Tensors;

namespace Sparrow.Graph.Passes;

/// <summary>
/// Propagates element types and shapes from the graph inputs through the nodes. Dimensions may be fixed,
/// symbolic ("batch", or a product such as "batch*sequence") or unknown; where an operator's result cannot be
/// told, it is left unknown rather than guessed, and the pass never throws on what it cannot follow.
/// </summary>
/// <remarks>
/// Besides shapes, the pass follows the contents of small integer tensors (Shape, Gather, Unsqueeze, Concat,
/// Slice, arithmetic, Cast...), the chains exporters build around Reshape, so that a Reshape whose target is
/// computed from a symbolic input shape still gets a shape. Two assumptions that hold in any model that runs:
/// a dimension broadcast against a fixed one is that fixed one (or 1), and a Slice whose end is a symbolic
/// value stays within the dimension it cuts (exporters slice position tables by the sequence length this way).
/// </remarks>
internal static class ShapeInference
{
    /// <summary>Integer tensors up to this many elements have their contents followed.</summary>
    private const int MaxTrackedValues = 64;

    /// <summary>
    /// The inferred type and shape of every value that has one (graph inputs, initializers, node outputs), by
    /// name. <paramref name="inputShapes"/> overrides the declared shapes of graph inputs (symbolic dims allowed).
    /// Declared shapes of intermediates and outputs fill in what inference cannot tell.
    /// </summary>
    public static IReadOnlyDictionary<string, ValueInfo> Infer(Model model, IReadOnlyDictionary<string, IReadOnlyList<Dimension>>? inputShapes = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var inferrer = new Inferrer(model, inputShapes);
        inferrer.Run();
        return inferrer.Result();
    }

    /// <summary>
    /// Infers shapes and writes them into the graph: <see cref="ModelGraph.ValueInfos"/> gets an entry for every
    /// node output that is not a graph output (replacing older entries of the same name), and graph outputs
    /// get their unknown or symbolic dimensions sharpened where inference knows better (rank and fixed
    /// dimensions are never changed). Returns how many values have a fully known rank.
    /// </summary>
    public static int Run(Model model, IReadOnlyDictionary<string, IReadOnlyList<Dimension>>? inputShapes = null)
    {
        var inferred = Infer(model, inputShapes);
        var graph = model.Graph;
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name));
        var produced = graph.Nodes.SelectMany(n => n.Outputs).Where(o => o.Length > 0 && !outputs.Contains(o)).Distinct().ToList();
        var producedSet = new HashSet<string>(produced);
        graph.ValueInfos.RemoveAll(v => producedSet.Contains(v.Name) && inferred.ContainsKey(v.Name));
        foreach (var name in produced)
            if (inferred.TryGetValue(name, out var info)) graph.ValueInfos.Add(info);
        foreach (var output in graph.Outputs)
        {
            if (!inferred.TryGetValue(output.Name, out var info)) continue;
            if (output.ElementType == DataType.Undefined) output.ElementType = info.ElementType;
            output.Shape = Merge(info.Shape, output.Shape);
        }
        return inferred.Values.Count(v => v.Shape is not null);
    }

    /// <summary>Keeps what is known in <paramref name="declared"/> and fills its gaps from <paramref name="inferred"/>; a fixed dimension beats a symbol, a symbol beats unknown.</summary>
    private static IReadOnlyList<Dimension>? Merge(IReadOnlyList<Dimension>? inferred, IReadOnlyList<Dimension>? declared)
    {
        if (declared is null) return inferred;
        if (inferred is null || inferred.Count != declared.Count) return declared;
        var merged = new Dimension[declared.Count];
        for (var i = 0; i < merged.Length; i++)
            merged[i] = declared[i].IsFixed ? declared[i]
                : inferred[i].IsFixed ? inferred[i]
                : declared[i].Symbol is not null ? declared[i]
                : inferred[i];
        return merged;
    }

    /// <summary>What was inferred, with its unknown dimensions (or unknown rank) taken from a declaration.</summary>
    private static Dimension[]? FillGaps(Dimension[]? inferred, IReadOnlyList<Dimension>? declared)
    {
        if (declared is null) return inferred;
        if (inferred is null) return declared.ToArray();
        if (inferred.Length != declared.Count) return inferred;
        return inferred.Select((d, i) => d.IsFixed || d.Symbol is not null ? d : declared[i]).ToArray();
    }

    private sealed class Info
    {
        public DataType Type;
        public Dimension[]? Shape;

        /// <summary>Contents of a small integer tensor, row-major; entries may be symbolic or unknown.</summary>
        public Dimension[]? Values;
    }

    private sealed class Inferrer
    {
        private readonly Model _model;
        private readonly ModelGraph _graph;
        private readonly Dictionary<string, Info> _infos = new();
        private readonly Dictionary<string, ValueInfo> _declared = new();

        public Inferrer(Model model, IReadOnlyDictionary<string, IReadOnlyList<Dimension>>? inputShapes)
        {
            _model = model;
            _graph = model.Graph;
            foreach (var v in _graph.ValueInfos.Concat(_graph.Outputs)) _declared[v.Name] = v;
            var graphInputs = new HashSet<string>(_graph.Inputs.Select(i => i.Name));
            foreach (var (name, tensor) in _graph.Initializers)
            {
                var info = new Info { Type = tensor.ElementType, Shape = tensor.CopyShape().Select(d => Dimension.Fixed(d)).ToArray() };
                // An initializer that is also a graph input is only a default; its contents are not constant.
                if (!graphInputs.Contains(name)) info.Values = ValuesOf(tensor);
                _infos[name] = info;
            }
            foreach (var input in _graph.Inputs)
            {
                IReadOnlyList<Dimension>? shape = input.Shape;
                if (inputShapes is not null && inputShapes.TryGetValue(input.Name, out var given)) shape = given;
                var existing = _infos.GetValueOrDefault(input.Name);
                _infos[input.Name] = new Info
                {
                    Type = input.ElementType != DataType.Undefined ? input.ElementType : existing?.Type ?? DataType.Undefined,
                    Shape = shape?.ToArray() ?? existing?.Shape,
                };
            }
        }

        public void Run()
        {
            foreach (var node in TopologicalOrder())
            {
                try
                {
                    Visit(node);
                }
                catch (Exception e) when (e is ModelException or ArgumentException or InvalidCastException or OverflowException
                                              or IndexOutOfRangeException or InvalidOperationException)
                {
                    // A malformed node: leave its outputs unknown; the runtime reports the error with the node's name.
                }
                foreach (var output in node.Outputs)
                {
                    if (output.Length == 0 || !_declared.TryGetValue(output, out var declared)) continue;
                    var info = _infos.GetValueOrDefault(output) ?? (_infos[output] = new Info());
                    if (info.Type == DataType.Undefined) info.Type = declared.ElementType;
                    info.Shape = FillGaps(info.Shape, declared.Shape);
                }
            }
        }

        public IReadOnlyDictionary<string, ValueInfo> Result()
        {
            var result = new Dictionary<string, ValueInfo>();
            foreach (var (name, info) in _infos)
                if (info.Type != DataType.Undefined || info.Shape is not null)
                    result[name] = new ValueInfo(name, info.Type, info.Shape);
            return result;
        }

        /// <summary>The nodes in dependency order; nodes on a cycle are left out (their outputs stay unknown).</summary>
        private List<Node> TopologicalOrder()
        {
            var producers = new Dictionary<string, Node>();
            foreach (var n in _graph.Nodes)
                foreach (var o in n.Outputs)
                    if (o.Length > 0) producers.TryAdd(o, n);
            var pending = new Dictionary<Node, int>(ReferenceEqualityComparer.Instance);
            var readers = new Dictionary<Node, List<Node>>(ReferenceEqualityComparer.Instance);
            foreach (var n in _graph.Nodes)
            {
                var waits = 0;
                foreach (var p in n.Inputs.Where(i => i.Length > 0 && producers.ContainsKey(i)).Select(i => producers[i]).Distinct())
                {
                    if (ReferenceEquals(p, n)) continue;
                    waits++;
                    if (!readers.TryGetValue(p, out var list)) readers[p] = list = new List<Node>();
                    list.Add(n);
                }
                pending[n] = waits;
            }
            var ready = new Queue<Node>(_graph.Nodes.Where(n => pending[n] == 0));
            var order = new List<Node>(_graph.Nodes.Count);
            while (ready.Count > 0)
            {
                var n = ready.Dequeue();
                order.Add(n);
                if (readers.TryGetValue(n, out var list))
                    foreach (var r in list)
                        if (--pending[r] == 0) ready.Enqueue(r);
            }
            return order;
        }

        // ---- access to what is known ----

        private Info? Get(string name) => name.Length > 0 ? _infos.GetValueOrDefault(name) : null;

        private DataType TypeOf(string name) => Get(name)?.Type ?? DataType.Undefined;

        private Dimension[]? ShapeOf(string name) => Get(name)?.Shape;

        private Dimension[]? ValuesOf(string name) => Get(name)?.Values;

        private Dimension[]? InputShape(Node n, int i) => i < n.Inputs.Count ? ShapeOf(n.Inputs[i]) : null;

        private DataType InputType(Node n, int i) => i < n.Inputs.Count ? TypeOf(n.Inputs[i]) : DataType.Undefined;

        /// <summary>The contents of an integer input when every entry is a known number.</summary>
        private long[]? Ints(Node n, int i)
        {
            if (i >= n.Inputs.Count || ValuesOf(n.Inputs[i]) is not { } values) return null;
            var result = new long[values.Length];
            for (var k = 0; k < values.Length; k++)
            {
                if (values[k].Value is not { } v) return null;
                result[k] = v;
            }
            return result;
        }

        private bool HasInput(Node n, int i) => i < n.Inputs.Count && n.Inputs[i].Length > 0;

        private void Set(Node n, int output, DataType type, Dimension[]? shape, Dimension[]? values = null)
        {
            if (output >= n.Outputs.Count || n.Outputs[output].Length == 0) return;
            if (values is not null && (values.Length > MaxTrackedValues || shape is null || shape.Length > 1)) values = null;
            _infos[n.Outputs[output]] = new Info { Type = type, Shape = shape, Values = values };
        }

        private static Dimension[]? ValuesOf(Tensor tensor)
        {
            if (tensor.Length > MaxTrackedValues || tensor.Rank > 1) return null;
            return tensor switch
            {
                Tensor<long> l => l.ToArray().Select(Dimension.Fixed).ToArray(),
                Tensor<int> i => i.ToArray().Select(v => Dimension.Fixed(v)).ToArray(),
                _ => null,
            };
        }

        // ---- the operators ----

        private void Visit(Node node)
        {
            if (node.Domain == SparrowOps.Domain)
            {
                VisitSparrow(node);
                return;
            }
            if (node.Domain.Length != 0) return;
            var x = InputShape(node, 0);
            var xType = InputType(node, 0);
            switch (node.OpType)
            {
                case "Add" or "Sub" or "Mul" or "Div" or "Pow" or "Mod" or "PRelu" or "BitShift" or "Max" or "Min" or "Sum" or "Mean":
                    Set(node, 0, xType != DataType.Undefined ? xType : InputType(node, 1), BroadcastInputs(node, 0), Arithmetic(node));
                    break;
                case "And" or "Or" or "Xor" or "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual":
                    Set(node, 0, DataType.Bool, BroadcastInputs(node, 0));
                    break;
                case "Where":
                    Set(node, 0, InputType(node, 1), BroadcastInputs(node, 0));
                    break;
                case "Relu" or "LeakyRelu" or "Elu" or "Selu" or "Celu" or "Sigmoid" or "HardSigmoid" or "HardSwish" or "Tanh" or "Exp"
                    or "Log" or "Sqrt" or "Erf" or "Abs" or "Neg" or "Reciprocal" or "Floor" or "Ceil" or "Round" or "Sign" or "Sin" or "Cos"
                    or "Tan" or "Asin" or "Acos" or "Atan" or "Sinh" or "Cosh" or "Asinh" or "Acosh" or "Atanh" or "Softplus" or "Softsign"
                    or "Mish" or "ThresholdedRelu" or "Shrink" or "Clip" or "Gelu" or "Softmax" or "LogSoftmax" or "Hardmax" or "CumSum"
                    or "Trilu" or "LRN" or "InstanceNormalization" or "MeanVarianceNormalization" or "ScatterND" or "ScatterElements":
                    Set(node, 0, xType, x);
                    break;
                case "Identity":
                    Set(node, 0, xType, x, ValuesOf(node.Inputs[0]));
                    break;
                case "Not" or "IsNaN" or "IsInf":
                    Set(node, 0, DataType.Bool, x);
                    break;
                case "Dropout":
                    Set(node, 0, xType, x);
                    Set(node, 1, DataType.Bool, x);
                    break;
                case "Cast":
                {
                    var to = (DataType)node.GetInt("to", 0);
                    var keepValues = to is DataType.Int64 or DataType.Int32 && xType is DataType.Int64 or DataType.Int32;
                    Set(node, 0, to, x, keepValues ? ValuesOf(node.Inputs[0]) : null);
                    break;
                }
                case "CastLike":
                    Set(node, 0, InputType(node, 1), x);
                    break;
                case "Constant":
                    Constant(node);
                    break;
                case "Shape":
                    Shape(node, x);
                    break;
                case "Size":
                    Set(node, 0, DataType.Int64, Array.Empty<Dimension>(), x is null ? null : new[] { Product(x) });
                    break;
                case "ConstantOfShape":
                    ConstantOfShape(node);
                    break;
                case "MatMul":
                    Set(node, 0, xType, MatMul(x, InputShape(node, 1)));
                    break;
                case "Gemm":
                    Gemm(node, x, xType);
                    break;
                case "ReduceMean" or "ReduceSum" or "ReduceMax" or "ReduceMin" or "ReduceProd" or "ReduceL1" or "ReduceL2"
                    or "ReduceLogSum" or "ReduceLogSumExp" or "ReduceSumSquare":
                    Set(node, 0, xType, Reduce(node, x));
                    break;
                case "ArgMax" or "ArgMin":
                    Set(node, 0, DataType.Int64, ReduceAxes(x, new[] { node.GetInt("axis", 0) }, node.GetInt("keepdims", 1) != 0));
                    break;
                case "Gather":
                    Gather(node, x, xType);
                    break;
                case "GatherElements":
                    Set(node, 0, xType, InputShape(node, 1));
                    break;
                case "Reshape":
                    Reshape(node, x, xType);
                    break;
                case "Transpose":
                    Transpose(node, x, xType);
                    break;
                case "Unsqueeze":
                    Unsqueeze(node, x, xType);
                    break;
                case "Squeeze":
                    Squeeze(node, x, xType);
                    break;
                case "Concat":
                    Concat(node, xType);
                    break;
                case "Slice":
                    Slice(node, x, xType);
                    break;
                case "Expand":
                    Expand(node, x, xType);
                    break;
                case "Flatten":
                    Flatten(node, x, xType);
                    break;
                case "Tile":
                    Tile(node, x, xType);
                    break;
                case "Range":
                    Range(node, xType);
                    break;
                case "Split":
                    Split(node, x, xType);
                    break;
                case "Pad":
                    Pad(node, x, xType);
                    break;
                case "LayerNormalization":
                    LayerNormalization(node, x, xType);
                    break;
                case "BatchNormalization":
                    Set(node, 0, xType, x);
                    for (var i = 1; i < node.Outputs.Count && i < 3; i++) Set(node, i, InputType(node, 2 + i), InputShape(node, 2 + i));
                    break;
                case "Conv":
                    Pool(node, x, xType, InputShape(node, 1));
                    break;
                case "MaxPool" or "AveragePool" or "LpPool":
                    Pool(node, x, xType, weight: null);
                    if (node.OpType == "MaxPool") Set(node, 1, DataType.Int64, ShapeOf(node.Outputs[0]) ?? null);
                    break;
                case "GlobalAveragePool" or "GlobalMaxPool" or "GlobalLpPool":
                    Set(node, 0, xType, x is { Length: >= 2 } ? x.Select((d, i) => i < 2 ? d : Dimension.Fixed(1)).ToArray() : null);
                    break;
                case "NonZero":
                    Set(node, 0, DataType.Int64, x is null ? null : new[] { Dimension.Fixed(x.Length), Dimension.Unknown });
                    break;
                case "TopK":
                    TopK(node, x, xType);
                    break;
            }
        }

        private void VisitSparrow(Node node)
        {
            var x = InputShape(node, 0);
            var xType = InputType(node, 0);
            switch (node.OpType)
            {
                case SparrowOps.Gelu:
                    Set(node, 0, xType, x);
                    break;
                case SparrowOps.Linear:
                {
                    var w = InputShape(node, 1);
                    Dimension[]? shape = null;
                    if (x is { Length: >= 1 } && w is { Length: 2 })
                    {
                        shape = (Dimension[])x.Clone();
                        shape[^1] = w[1];
                    }
                    Set(node, 0, xType, shape);
                    break;
                }
                case SparrowOps.AddLayerNormalization:
                    Set(node, 0, xType, x);
                    break;
                case SparrowOps.Attention:
                {
                    // [B, Sq, H, Dv] from Q [B, Sq, H, D] and V [B, Sk, H, Dv] (B and H as Q has them).
                    var v = InputShape(node, 2);
                    Set(node, 0, xType, x is { Length: 4 } && v is { Length: 4 } ? new[] { x[0], x[1], x[2], v[3] } : null);
                    break;
                }
            }
        }

        private void Constant(Node node)
        {
            if (node.FindAttribute("value") is { Kind: AttributeKind.Tensor } value)
            {
                var t = value.AsTensor();
                Set(node, 0, t.ElementType, t.CopyShape().Select(d => Dimension.Fixed(d)).ToArray(), ValuesOf(t));
            }
            else if (node.FindAttribute("value_float") is not null) Set(node, 0, DataType.Float32, Array.Empty<Dimension>());
            else if (node.FindAttribute("value_floats") is { } fs) Set(node, 0, DataType.Float32, new[] { Dimension.Fixed(fs.AsFloats().Length) });
            else if (node.FindAttribute("value_int") is { } vi) Set(node, 0, DataType.Int64, Array.Empty<Dimension>(), new[] { Dimension.Fixed(vi.AsInt()) });
            else if (node.FindAttribute("value_ints") is { } vs)
                Set(node, 0, DataType.Int64, new[] { Dimension.Fixed(vs.AsInts().Length) }, vs.AsInts().Select(Dimension.Fixed).ToArray());
        }

        private void Shape(Node node, Dimension[]? x)
        {
            if (x is null)
            {
                Set(node, 0, DataType.Int64, new[] { Dimension.Unknown });
                return;
            }
            var rank = x.Length;
            var start = (int)Math.Clamp(Normalize(node.GetInt("start", 0), rank), 0, rank);
            var end = (int)Math.Clamp(Normalize(node.GetInt("end", rank), rank), 0, rank);
            var dims = x[start..Math.Max(start, end)];
            Set(node, 0, DataType.Int64, new[] { Dimension.Fixed(dims.Length) }, dims);
        }

        private static long Normalize(long axis, int rank) => axis < 0 ? axis + rank : axis;

        private void ConstantOfShape(Node node)
        {
            var type = node.FindAttribute("value") is { Kind: AttributeKind.Tensor } v ? v.AsTensor().ElementType : DataType.Float32;
            Dimension[]? shape = null;
            if (ValuesOf(node.Inputs[0]) is { } dims) shape = dims;
            else if (InputShape(node, 0) is [{ Value: { } rank }]) shape = Enumerable.Repeat(Dimension.Unknown, (int)rank).ToArray();
            Dimension[]? values = null;
            if (shape is { Length: <= 1 } && type is DataType.Int64 or DataType.Int32
                && node.FindAttribute("value")?.AsTensor() is { Length: 1 } filler && ValuesOf(filler) is [var fill]
                && (shape.Length == 0 || shape[0].Value is { } n && n <= MaxTrackedValues))
                values = Enumerable.Repeat(fill, shape.Length == 0 ? 1 : (int)shape[0].Value!.Value).ToArray();
            Set(node, 0, type, shape, values);
        }

        private void Gemm(Node node, Dimension[]? a, DataType type)
        {
            var b = InputShape(node, 1);
            if (a is not { Length: 2 } || b is not { Length: 2 })
            {
                Set(node, 0, type, a is null || b is null ? null : new[] { Dimension.Unknown, Dimension.Unknown });
                return;
            }
            var m = node.GetInt("transA", 0) != 0 ? a[1] : a[0];
            var n = node.GetInt("transB", 0) != 0 ? b[0] : b[1];
            Set(node, 0, type, new[] { m, n });
        }

        private static Dimension[]? MatMul(Dimension[]? a, Dimension[]? b)
        {
            if (a is null || b is null || a.Length == 0 || b.Length == 0) return null;
            var a2 = a.Length == 1 ? new[] { Dimension.Fixed(1), a[0] } : a;
            var b2 = b.Length == 1 ? new[] { b[0], Dimension.Fixed(1) } : b;
            var batch = Broadcast(new[] { a2[..^2], b2[..^2] });
            if (batch is null) return null;
            var result = new List<Dimension>(batch);
            if (a.Length > 1) result.Add(a2[^2]);
            if (b.Length > 1) result.Add(b2[^1]);
            return result.ToArray();
        }

        private Dimension[]? Reduce(Node node, Dimension[]? x)
        {
            long[]? axes;
            if (HasInput(node, 1))
            {
                axes = Ints(node, 1);
                if (axes is null) return null;
            }
            else axes = node.GetInts("axes");
            var keep = node.GetInt("keepdims", 1) != 0;
            if (axes is null || axes.Length == 0)
            {
                if (node.GetInt("noop_with_empty_axes", 0) != 0) return x;
                if (x is null) return null;
                axes = Enumerable.Range(0, x.Length).Select(i => (long)i).ToArray();
            }
            return ReduceAxes(x, axes, keep);
        }

        private static Dimension[]? ReduceAxes(Dimension[]? x, long[] axes, bool keep)
        {
            if (x is null) return null;
            var rank = x.Length;
            var reduced = new HashSet<long>(axes.Select(a => Normalize(a, rank)));
            if (reduced.Any(a => a < 0 || a >= rank)) return null;
            var result = new List<Dimension>();
            for (var i = 0; i < rank; i++)
            {
                if (!reduced.Contains(i)) result.Add(x[i]);
                else if (keep) result.Add(Dimension.Fixed(1));
            }
            return result.ToArray();
        }

        private void Gather(Node node, Dimension[]? data, DataType type)
        {
            var indices = InputShape(node, 1);
            if (data is null || indices is null)
            {
                Set(node, 0, type, null);
                return;
            }
            var axis = (int)Normalize(node.GetInt("axis", 0), data.Length);
            if (axis < 0 || axis >= data.Length) return;
            var shape = data[..axis].Concat(indices).Concat(data[(axis + 1)..]).ToArray();
            Dimension[]? values = null;
            if (data.Length == 1 && ValuesOf(node.Inputs[0]) is { } source && Ints(node, 1) is { } index)
            {
                values = new Dimension[index.Length];
                for (var i = 0; i < index.Length; i++)
                {
                    var k = index[i] < 0 ? index[i] + source.Length : index[i];
                    if (k < 0 || k >= source.Length) return;
                    values[i] = source[k];
                }
            }
            Set(node, 0, type, shape, values);
        }

        private void Reshape(Node node, Dimension[]? x, DataType type)
        {
            var target = ValuesOf(node.Inputs.Count > 1 ? node.Inputs[1] : "");
            if (target is null)
            {
                // Without the target's contents, its length still gives the rank.
                Set(node, 0, type, InputShape(node, 1) is [{ Value: { } rank }] ? Enumerable.Repeat(Dimension.Unknown, (int)rank).ToArray() : null);
                return;
            }
            var allowZero = node.GetInt("allowzero", 0) != 0;
            var shape = new Dimension[target.Length];
            var inferred = -1;
            for (var i = 0; i < target.Length; i++)
            {
                var t = target[i];
                if (t.Value == 0 && !allowZero) shape[i] = x is not null && i < x.Length ? x[i] : Dimension.Unknown;
                else if (t.Value == -1) inferred = i;
                else shape[i] = t;
            }
            if (inferred >= 0)
            {
                shape[inferred] = Dimension.Unknown;
                if (x is not null)
                {
                    var others = shape.Where((_, i) => i != inferred).ToArray();
                    shape[inferred] = Divide(Product(x), Product(others));
                }
            }
            Set(node, 0, type, shape, shape.Length <= 1 ? ValuesOf(node.Inputs[0]) : null);
        }

        private void Transpose(Node node, Dimension[]? x, DataType type)
        {
            if (x is null)
            {
                Set(node, 0, type, null);
                return;
            }
            var perm = node.GetInts("perm") ?? Enumerable.Range(0, x.Length).Reverse().Select(i => (long)i).ToArray();
            if (perm.Length != x.Length || perm.Any(p => p < 0 || p >= x.Length)) return;
            Set(node, 0, type, perm.Select(p => x[p]).ToArray());
        }

        private long[]? AxesOf(Node node, int inputIndex) => HasInput(node, inputIndex) ? Ints(node, inputIndex) : node.GetInts("axes");

        private void Unsqueeze(Node node, Dimension[]? x, DataType type)
        {
            var axes = AxesOf(node, 1);
            if (x is null || axes is null)
            {
                Set(node, 0, type, null);
                return;
            }
            var rank = x.Length + axes.Length;
            var inserted = new HashSet<long>(axes.Select(a => Normalize(a, rank)));
            if (inserted.Count != axes.Length || inserted.Any(a => a < 0 || a >= rank)) return;
            var shape = new Dimension[rank];
            var next = 0;
            for (var i = 0; i < rank; i++) shape[i] = inserted.Contains(i) ? Dimension.Fixed(1) : x[next++];
            Set(node, 0, type, shape, ValuesOf(node.Inputs[0]));
        }

        private void Squeeze(Node node, Dimension[]? x, DataType type)
        {
            if (x is null)
            {
                Set(node, 0, type, null);
                return;
            }
            var axes = AxesOf(node, 1);
            if (axes is null)
            {
                // Without axes every dimension of size 1 goes, which needs every dimension known.
                if (HasInput(node, 1) || x.Any(d => !d.IsFixed)) return;
                Set(node, 0, type, x.Where(d => d.Value != 1).ToArray(), ValuesOf(node.Inputs[0]));
                return;
            }
            var removed = new HashSet<long>(axes.Select(a => Normalize(a, x.Length)));
            if (removed.Any(a => a < 0 || a >= x.Length)) return;
            Set(node, 0, type, x.Where((_, i) => !removed.Contains(i)).ToArray(), ValuesOf(node.Inputs[0]));
        }

        private void Concat(Node node, DataType type)
        {
            var shapes = node.Inputs.Select(ShapeOf).ToArray();
            if (shapes.Length == 0 || shapes.Any(s => s is null))
            {
                Set(node, 0, type, null);
                return;
            }
            var rank = shapes[0]!.Length;
            if (shapes.Any(s => s!.Length != rank)) return;
            var axis = (int)Normalize(node.GetInt("axis", 0), rank);
            if (axis < 0 || axis >= rank) return;
            var shape = new Dimension[rank];
            for (var i = 0; i < rank; i++)
                shape[i] = i == axis ? Sum(shapes.Select(s => s![i])) : Agree(shapes.Select(s => s![i]));
            Dimension[]? values = null;
            if (rank == 1 && node.Inputs.All(i => ValuesOf(i) is not null))
                values = node.Inputs.SelectMany(i => ValuesOf(i)!).ToArray();
            Set(node, 0, type, shape, values);
        }

        private void Slice(Node node, Dimension[]? x, DataType type)
        {
            if (x is null)
            {
                Set(node, 0, type, null);
                return;
            }
            Dimension[]? starts, ends;
            long[]? axes, steps;
            if (HasInput(node, 1) || HasInput(node, 2))
            {
                starts = ValuesOf(node.Inputs[1]);
                ends = node.Inputs.Count > 2 ? ValuesOf(node.Inputs[2]) : null;
                axes = HasInput(node, 3) ? Ints(node, 3) : null;
                steps = HasInput(node, 4) ? Ints(node, 4) : null;
                if (HasInput(node, 3) && axes is null || HasInput(node, 4) && steps is null) starts = null;
            }
            else
            {
                starts = node.GetInts("starts")?.Select(Dimension.Fixed).ToArray();
                ends = node.GetInts("ends")?.Select(Dimension.Fixed).ToArray();
                axes = node.GetInts("axes");
                steps = null;
            }
            if (starts is null || ends is null || starts.Length != ends.Length)
            {
                // The rank is kept whatever is cut.
                Set(node, 0, type, Enumerable.Repeat(Dimension.Unknown, x.Length).ToArray());
                return;
            }
            axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
            steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
            if (axes.Length != starts.Length || steps.Length != starts.Length) return;
            var shape = (Dimension[])x.Clone();
            var source = x.Length == 1 ? ValuesOf(node.Inputs[0]) : null;
            var cut = new (long Start, long Step, long Count)?[x.Length];
            for (var k = 0; k < axes.Length; k++)
            {
                var axis = (int)Normalize(axes[k], x.Length);
                if (axis < 0 || axis >= x.Length || steps[k] == 0) return;
                shape[axis] = SliceDimension(x[axis], starts[k], ends[k], steps[k], out var range);
                cut[axis] = range;
            }
            Dimension[]? values = null;
            if (source is not null && shape[0].Value is { } count)
            {
                if (cut[0] is { } c)
                    values = Enumerable.Range(0, (int)c.Count).Select(i => source[c.Start + i * c.Step]).ToArray();
                else values = source;
                if (values.Length != count) values = null;
            }
            Set(node, 0, type, shape, values);
        }

        /// <summary>The size of one sliced dimension (ONNX clamping rules); also the range when everything is known.</summary>
        private static Dimension SliceDimension(Dimension dim, Dimension start, Dimension end, long step, out (long, long, long)? range)
        {
            range = null;
            const long large = int.MaxValue;
            if (dim.Value is { } size && start.Value is { } s && end.Value is { } e)
            {
                if (s < 0) s += size;
                if (e < 0) e += size;
                long first, count;
                if (step > 0)
                {
                    first = Math.Clamp(s, 0, size);
                    var stop = Math.Clamp(e, 0, size);
                    count = stop > first ? (stop - first + step - 1) / step : 0;
                }
                else
                {
                    first = Math.Clamp(s, -1, size - 1);
                    var stop = Math.Clamp(e, -1, size - 1);
                    count = first > stop ? (first - stop + (-step) - 1) / (-step) : 0;
                }
                range = (first, step, count);
                return Dimension.Fixed(count);
            }
            if (step != 1 || start.Value != 0) return Dimension.Unknown;
            // From the start: to the end keeps the dimension; to a symbolic end is that end (see the class remarks).
            if (end.Value is { } stopAt && stopAt >= large || Same(end, dim)) return dim;
            if (end.Symbol is not null && dim.IsFixed) return end;
            return Dimension.Unknown;
        }

        private void Expand(Node node, Dimension[]? x, DataType type)
        {
            var target = ValuesOf(node.Inputs.Count > 1 ? node.Inputs[1] : "");
            Set(node, 0, type, x is null || target is null ? null : Broadcast(new[] { x, target }));
        }

        private void Flatten(Node node, Dimension[]? x, DataType type)
        {
            if (x is null)
            {
                Set(node, 0, type, new[] { Dimension.Unknown, Dimension.Unknown });
                return;
            }
            var axis = (int)Normalize(node.GetInt("axis", 1), x.Length);
            if (axis < 0 || axis > x.Length) return;
            Set(node, 0, type, new[] { Product(x[..axis]), Product(x[axis..]) });
        }

        private void Tile(Node node, Dimension[]? x, DataType type)
        {
            var repeats = Ints(node, 1);
            if (x is null || repeats is null || repeats.Length != x.Length)
            {
                Set(node, 0, type, x is null ? null : Enumerable.Repeat(Dimension.Unknown, x.Length).ToArray());
                return;
            }
            Set(node, 0, type, x.Select((d, i) => Product(new[] { d, Dimension.Fixed(repeats[i]) })).ToArray());
        }

        private void Range(Node node, DataType type)
        {
            var (start, limit, delta) = (Ints(node, 0), Ints(node, 1), Ints(node, 2));
            if (start is not [var s] || limit is not [var l] || delta is not [var d] || d == 0)
            {
                Set(node, 0, type, new[] { Dimension.Unknown });
                return;
            }
            var count = Math.Max((long)Math.Ceiling((double)(l - s) / d), 0);
            var values = count <= MaxTrackedValues ? Enumerable.Range(0, (int)count).Select(i => Dimension.Fixed(s + i * d)).ToArray() : null;
            Set(node, 0, type, new[] { Dimension.Fixed(count) }, values);
        }

        private void Split(Node node, Dimension[]? x, DataType type)
        {
            var outputs = node.Outputs.Count;
            if (x is null)
            {
                for (var i = 0; i < outputs; i++) Set(node, i, type, null);
                return;
            }
            var axis = (int)Normalize(node.GetInt("axis", 0), x.Length);
            if (axis < 0 || axis >= x.Length) return;
            var split = HasInput(node, 1) ? Ints(node, 1) : node.GetInts("split");
            if (split is null && !HasInput(node, 1) && x[axis].Value is { } size)
            {
                var parts = node.GetInt("num_outputs", outputs);
                var chunk = (size + parts - 1) / Math.Max(parts, 1);
                split = Enumerable.Range(0, outputs).Select(i => Math.Clamp(size - i * chunk, 0, chunk)).ToArray();
            }
            for (var i = 0; i < outputs; i++)
            {
                var shape = (Dimension[])x.Clone();
                shape[axis] = split is not null && i < split.Length ? Dimension.Fixed(split[i]) : Dimension.Unknown;
                Set(node, i, type, shape);
            }
        }

        private void Pad(Node node, Dimension[]? x, DataType type)
        {
            if (x is null)
            {
                Set(node, 0, type, null);
                return;
            }
            var pads = HasInput(node, 1) ? Ints(node, 1) : node.GetInts("pads");
            if (pads is null || pads.Length != 2 * x.Length || HasInput(node, 3))
            {
                Set(node, 0, type, Enumerable.Repeat(Dimension.Unknown, x.Length).ToArray());
                return;
            }
            Set(node, 0, type, x.Select((d, i) => pads[i] == 0 && pads[i + x.Length] == 0 ? d
                : d.Value is { } v ? Dimension.Fixed(v + pads[i] + pads[i + x.Length]) : Dimension.Unknown).ToArray());
        }

        private void LayerNormalization(Node node, Dimension[]? x, DataType type)
        {
            Set(node, 0, type, x);
            if (node.Outputs.Count < 2) return;
            var stash = (DataType)node.GetInt("stash_type", (long)DataType.Float32);
            Dimension[]? statistics = null;
            if (x is not null)
            {
                var axis = (int)Normalize(node.GetInt("axis", -1), x.Length);
                if (axis >= 0 && axis < x.Length)
                    statistics = x.Select((d, i) => i < axis ? d : Dimension.Fixed(1)).ToArray();
            }
            Set(node, 1, stash, statistics);
            Set(node, 2, stash, statistics);
        }

        /// <summary>Conv (when a weight shape is given), MaxPool, AveragePool, LpPool.</summary>
        private void Pool(Node node, Dimension[]? x, DataType type, Dimension[]? weight)
        {
            var isConv = node.OpType == "Conv";
            if (x is null || x.Length < 3)
            {
                Set(node, 0, type, null);
                return;
            }
            var spatial = x.Length - 2;
            var kernel = node.GetInts("kernel_shape");
            if (kernel is null && isConv && weight is { } w && w.Length == x.Length && w[2..].All(d => d.IsFixed))
                kernel = w[2..].Select(d => d.Value!.Value).ToArray();
            var shape = new Dimension[x.Length];
            shape[0] = x[0];
            shape[1] = isConv ? weight is { Length: > 0 } ? weight[0] : Dimension.Unknown : x[1];
            var strides = node.GetInts("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
            var dilations = node.GetInts("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
            var pads = node.GetInts("pads") ?? new long[2 * spatial];
            var autoPad = node.GetString("auto_pad", "NOTSET");
            var ceil = node.GetInt("ceil_mode", 0) != 0;
            var valid = kernel is not null && kernel.Length == spatial && strides.Length == spatial && dilations.Length == spatial
                        && pads.Length == 2 * spatial && strides.All(s => s > 0);
            for (var i = 0; i < spatial; i++)
            {
                shape[2 + i] = Dimension.Unknown;
                if (!valid || x[2 + i].Value is not { } size) continue;
                var extent = dilations[i] * (kernel![i] - 1) + 1;
                long output;
                switch (autoPad)
                {
                    case "SAME_UPPER" or "SAME_LOWER":
                        output = (size + strides[i] - 1) / strides[i];
                        break;
                    case "VALID":
                        output = FloorDiv(size - extent, strides[i]) + 1;
                        break;
                    default:
                    {
                        var span = size + pads[i] + pads[i + spatial] - extent;
                        output = (ceil ? -FloorDiv(-span, strides[i]) : FloorDiv(span, strides[i])) + 1;
                        // With ceil_mode the last window must start inside the input or its leading padding.
                        if (ceil && (output - 1) * strides[i] >= size + pads[i]) output--;
                        break;
                    }
                }
                if (output >= 0) shape[2 + i] = Dimension.Fixed(output);
            }
            Set(node, 0, type, shape);
        }

        private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

        private void TopK(Node node, Dimension[]? x, DataType type)
        {
            Dimension[]? shape = null;
            if (x is not null)
            {
                var axis = (int)Normalize(node.GetInt("axis", -1), x.Length);
                if (axis < 0 || axis >= x.Length) return;
                shape = (Dimension[])x.Clone();
                shape[axis] = Ints(node, 1) is [var k] ? Dimension.Fixed(k) : node.FindAttribute("k") is { } attr ? Dimension.Fixed(attr.AsInt()) : Dimension.Unknown;
            }
            Set(node, 0, type, shape);
            Set(node, 1, DataType.Int64, shape);
        }

        /// <summary>Contents of an element-wise integer operation on tracked values (shape arithmetic).</summary>
        private Dimension[]? Arithmetic(Node node)
        {
            if (node.Inputs.Count != 2 || node.OpType is not ("Add" or "Sub" or "Mul" or "Div")) return null;
            if (ValuesOf(node.Inputs[0]) is not { } a || ValuesOf(node.Inputs[1]) is not { } b) return null;
            if (InputShape(node, 0) is not { Length: <= 1 } || InputShape(node, 1) is not { Length: <= 1 }) return null;
            if (a.Length != b.Length && a.Length != 1 && b.Length != 1) return null;
            var count = Math.Max(a.Length, b.Length);
            var result = new Dimension[count];
            for (var i = 0; i < count; i++)
                result[i] = Arithmetic(node.OpType, a[a.Length == 1 ? 0 : i], b[b.Length == 1 ? 0 : i]);
            return result;
        }

        private static Dimension Arithmetic(string op, Dimension a, Dimension b)
        {
            if (a.Value is { } x && b.Value is { } y)
            {
                try
                {
                    return op switch
                    {
                        "Add" => Dimension.Fixed(checked(x + y)),
                        "Sub" => Dimension.Fixed(checked(x - y)),
                        "Mul" => Dimension.Fixed(checked(x * y)),
                        "Div" when y != 0 => Dimension.Fixed(x / y),
                        _ => Dimension.Unknown,
                    };
                }
                catch (OverflowException)
                {
                    return Dimension.Unknown;
                }
            }
            return op switch
            {
                "Add" when b.Value == 0 => a,
                "Add" when a.Value == 0 => b,
                "Sub" when b.Value == 0 => a,
                "Mul" => Product(new[] { a, b }),
                "Div" => Divide(a, b),
                _ => Dimension.Unknown,
            };
        }

        // ---- dimension algebra ----

        private Dimension[]? BroadcastInputs(Node node, int first)
        {
            var shapes = new List<Dimension[]>();
            for (var i = first; i < node.Inputs.Count; i++)
            {
                if (node.Inputs[i].Length == 0) continue;
                if (ShapeOf(node.Inputs[i]) is not { } s) return null;
                shapes.Add(s);
            }
            return shapes.Count == 0 ? null : Broadcast(shapes);
        }

        /// <summary>Numpy broadcasting; a dimension that cannot be told is unknown. Null only for no shapes.</summary>
        private static Dimension[]? Broadcast(IReadOnlyList<Dimension[]> shapes)
        {
            if (shapes.Count == 0) return null;
            var rank = shapes.Max(s => s.Length);
            var result = new Dimension[rank];
            for (var i = 0; i < rank; i++)
            {
                var merged = Dimension.Fixed(1);
                foreach (var s in shapes)
                {
                    var offset = i - (rank - s.Length);
                    if (offset < 0) continue;
                    var d = s[offset];
                    if (d.Value == 1) continue;
                    if (merged.Value == 1) merged = d;
                    else if (Same(merged, d)) { }
                    else if (merged.IsFixed && !d.IsFixed) { }
                    else if (d.IsFixed && !merged.IsFixed) merged = d;
                    else merged = Dimension.Unknown;
                }
                result[i] = merged;
            }
            return result;
        }

        private static bool Same(Dimension a, Dimension b) =>
            a.Value is { } x ? b.Value == x : a.Symbol is not null && a.Symbol == b.Symbol;

        /// <summary>The dimension a set of dimensions that must be equal have: a fixed one if any, else a common symbol.</summary>
        private static Dimension Agree(IEnumerable<Dimension> dims)
        {
            Dimension? symbol = null;
            foreach (var d in dims)
            {
                if (d.IsFixed) return d;
                if (d.Symbol is not null) symbol ??= d;
            }
            return symbol ?? Dimension.Unknown;
        }

        private static Dimension Sum(IEnumerable<Dimension> dims)
        {
            long total = 0;
            Dimension? single = null;
            foreach (var d in dims)
            {
                if (d.Value is { } v) total += v;
                else if (single is null && d.Symbol is not null) single = d;
                else return Dimension.Unknown;
            }
            return single is null ? Dimension.Fixed(total) : total == 0 ? single.Value : Dimension.Unknown;
        }

        /// <summary>A product of dimensions, kept symbolic ("2*batch*sequence") when symbols are involved.</summary>
        private static Dimension Product(IEnumerable<Dimension> dims)
        {
            var term = new Term(1, Array.Empty<string>());
            foreach (var d in dims)
            {
                if (Term.Of(d) is not { } t) return Dimension.Unknown;
                if (term.Times(t) is not { } next) return Dimension.Unknown;
                term = next;
            }
            return term.ToDimension();
        }

        private static Dimension Divide(Dimension a, Dimension b) =>
            Term.Of(a) is { } x && Term.Of(b) is { } y && x.Over(y) is { } q ? q.ToDimension() : Dimension.Unknown;

        /// <summary>A coefficient times a product of symbols.</summary>
        private readonly record struct Term(long Coefficient, string[] Symbols)
        {
            public static Term? Of(Dimension d)
            {
                if (d.Value is { } v) return new Term(v, Array.Empty<string>());
                if (d.Symbol is null) return null;
                long coefficient = 1;
                var symbols = new List<string>();
                foreach (var part in d.Symbol.Split('*'))
                {
                    if (long.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)) coefficient *= n;
                    else symbols.Add(part);
                }
                symbols.Sort(StringComparer.Ordinal);
                return new Term(coefficient, symbols.ToArray());
            }

            public Term? Times(Term other)
            {
                try
                {
                    var symbols = Symbols.Concat(other.Symbols).ToList();
                    symbols.Sort(StringComparer.Ordinal);
                    return new Term(checked(Coefficient * other.Coefficient), symbols.ToArray());
                }
                catch (OverflowException)
                {
                    return null;
                }
            }

            public Term? Over(Term divisor)
            {
                if (divisor.Coefficient == 0 || Coefficient % divisor.Coefficient != 0) return null;
                var remaining = Symbols.ToList();
                foreach (var s in divisor.Symbols)
                    if (!remaining.Remove(s)) return null;
                return new Term(Coefficient / divisor.Coefficient, remaining.ToArray());
            }

            public Dimension ToDimension()
            {
                if (Symbols.Length == 0) return Dimension.Fixed(Coefficient);
                if (Coefficient == 0) return Dimension.Fixed(0);
                var parts = Coefficient == 1 ? Symbols : Symbols.Prepend(Coefficient.ToString(System.Globalization.CultureInfo.InvariantCulture));
                return Dimension.Named(string.Join("*", parts));
            }
        }
    }
}
