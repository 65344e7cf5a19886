using System.Buffers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// Sparrow's mixture-of-experts FFN (domain "ai.sparrow", op "MoE"); docs/operators/moe.md is the full
/// contract. Inputs: X [..., d], router_weight [E, d], router_bias [E] (optional), w1 [E, h, d], b1 [E, h]
/// (optional), w2 [E, d, h], b2 [E, d] (optional). Outputs: Y (X's shape); optional expert_counts (int64 [E],
/// tokens each expert processed after capacity); optional router_logits ([..., E], for the training losses).
/// Attributes: k (2), activation ("gelu" | "relu"), capacity_factor (0 = dropless), normalize_gates (1),
/// gate_weighted (1).
/// </summary>
/// <remarks>
/// Tokens are grouped per expert, so each expert runs one GEMM pair over exactly its tokens: the work is
/// k/E of a dense mixture's. Experts run in parallel (each with a share of the threads); the weighted
/// scatter back into Y runs afterwards in expert order, so results do not depend on the thread count.
/// </remarks>
[OnnxOperator("MoE", Domain = OperatorContext.SparrowDomain)]
internal sealed class MoEOperator : Operator
{
    /// <summary>Below this many multiply-adds per expert, a thread of its own costs more than it saves.</summary>
    private const long MinWorkPerThread = 1 << 16;

    private readonly int _k;
    private readonly FusedActivation _activation;
    private readonly float _capacityFactor;
    private readonly bool _normalizeGates;
    private readonly bool _gateWeighted;

    public MoEOperator(Node node, OperatorContext context) : base(node)
    {
        if (node.Inputs.Count is < 6 or > 7)
            throw new ArgumentException($"MoE takes 6 or 7 inputs (X, router_weight, router_bias, w1, b1, w2[, b2]), got {node.Inputs.Count}.");
        if (node.Outputs.Count is < 1 or > 3)
            throw new ArgumentException($"MoE has 1 to 3 outputs (Y[, expert_counts[, router_logits]]), got {node.Outputs.Count}.");
        var settings = MoESettings.FromNode(node);
        _k = settings.K;
        _activation = settings.Activation;
        _capacityFactor = settings.CapacityFactor;
        _normalizeGates = settings.NormalizeGates;
        _gateWeighted = settings.GateWeighted;
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var layer = MoEShapes.Read(inputs, _k);
        var x = layer.X;
        int d = layer.D, h = layer.Hidden, e = layer.Experts, tokens = layer.Tokens;
        var routing = MoERouting.Compute(x.Span, tokens, d, layer.RouterWeight.Span, layer.RouterBias.Span, e, _k, _capacityFactor, _normalizeGates,
            _gateWeighted, context.Threads);

        var y = Tensor<float>.Allocate(x.Shape, clear: true);
        var results = new List<Tensor> { y };
        try
        {
            Experts(layer, routing, y.Span, context.Threads);
            if (Node.Outputs.Count > 1)
            {
                var counts = Tensor<long>.Allocate([e], clear: false);
                results.Add(counts);
                for (var i = 0; i < e; i++) counts.Span[i] = routing.Counts[i];
            }
            if (Node.Outputs.Count > 2)
            {
                var shape = x.CopyShape();
                shape[^1] = e;
                var logits = Tensor<float>.Allocate(shape, clear: false);
                results.Add(logits);
                routing.Logits.AsSpan().CopyTo(logits.Span);
            }
            return results.ToArray();
        }
        catch
        {
            foreach (var r in results) r.Dispose();
            throw;
        }
    }

    /// <summary>Runs every expert over its tokens and adds the gated results into <paramref name="y"/> [tokens, d].</summary>
    private void Experts(MoEShapes layer, MoERouting routing, Span<float> y, int threads)
    {
        int d = layer.D, h = layer.Hidden, e = layer.Experts, k = _k, tokens = layer.Tokens;
        // Group the kept choices per expert, in token order.
        var offsets = new int[e + 1];
        for (var i = 0; i < e; i++) offsets[i + 1] = offsets[i] + routing.Counts[i];
        var rows = offsets[e];
        if (rows == 0) return;
        var tokenOf = new int[rows];
        var gateOf = new float[rows];
        var fill = offsets[..e];
        for (var t = 0; t < tokens; t++)
            for (var j = 0; j < k; j++)
            {
                if (!routing.Kept[t * k + j]) continue;
                var slot = fill[routing.Chosen[t * k + j]]++;
                tokenOf[slot] = t;
                gateOf[slot] = routing.Gates[t * k + j];
            }

        var gathered = ArrayPool<float>.Shared.Rent(rows * d);
        var hidden = ArrayPool<float>.Shared.Rent(rows * h);
        var expertOut = ArrayPool<float>.Shared.Rent(rows * d);
        try
        {
            var x = layer.X.Memory;
            var w1 = layer.W1.Memory;
            var w2 = layer.W2.Memory;
            var b1 = layer.B1;
            var b2 = layer.B2;
            var activation = _activation;
            var active = Enumerable.Range(0, e).Where(i => routing.Counts[i] > 0).ToArray();
            var work = (long)rows * h * d * 2;
            var parallel = Math.Clamp((int)Math.Min(threads, work / MinWorkPerThread), 1, Math.Max(1, threads));
            var concurrentExperts = Math.Min(parallel, active.Length);
            var threadsPerExpert = Math.Max(1, parallel / Math.Max(1, concurrentExperts));

            void RunExpert(int expert)
            {
                int start = offsets[expert], n = offsets[expert + 1] - start;
                var xs = x.Span;
                var gatheredRows = gathered.AsSpan(start * d, n * d);
                for (var r = 0; r < n; r++) xs.Slice(tokenOf[start + r] * d, d).CopyTo(gatheredRows.Slice(r * d, d));
                var hiddenRows = hidden.AsSpan(start * h, n * h);
                // H = act(Xe · W1[e]ᵀ + b1[e]); W1[e] is [h, d].
                Sgemm.Multiply(n, h, d, gatheredRows, d, false, w1.Span.Slice(expert * h * d, h * d), d, true, hiddenRows, h,
                    columnBias: b1.IsEmpty ? default : b1.Span.Slice(expert * h, h), activation: activation, maxThreads: threadsPerExpert);
                // O = H · W2[e]ᵀ + b2[e]; W2[e] is [d, h].
                Sgemm.Multiply(n, d, h, hiddenRows, h, false, w2.Span.Slice(expert * d * h, d * h), h, true, expertOut.AsSpan(start * d, n * d), d,
                    columnBias: b2.IsEmpty ? default : b2.Span.Slice(expert * d, d), maxThreads: threadsPerExpert);
            }

            if (concurrentExperts <= 1)
                foreach (var expert in active) RunExpert(expert);
            else
                Parallel.ForEach(active, new ParallelOptions { MaxDegreeOfParallelism = concurrentExperts }, RunExpert);

            // Scatter back in expert order, so that sums are the same whatever the thread count.
            for (var slot = 0; slot < rows; slot++)
                TensorPrimitives.MultiplyAdd(expertOut.AsSpan(slot * d, d), gateOf[slot], y.Slice(tokenOf[slot] * d, d), y.Slice(tokenOf[slot] * d, d));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(gathered);
            ArrayPool<float>.Shared.Return(hidden);
            ArrayPool<float>.Shared.Return(expertOut);
        }
    }
}

/// <summary>The attributes of an <c>ai.sparrow:MoE</c> node, checked.</summary>
internal readonly record struct MoESettings(int K, FusedActivation Activation, float CapacityFactor, bool NormalizeGates, bool GateWeighted)
{
    public static MoESettings FromNode(Node node)
    {
        var k = node.GetInt("k", 2);
        if (k < 1) throw new ArgumentException($"MoE's k must be at least 1, got {k}.");
        var activation = node.GetString("activation", "gelu").ToLowerInvariant() switch
        {
            "gelu" => FusedActivation.Gelu,
            "relu" => FusedActivation.Relu,
            var other => throw new NotSupportedException($"MoE activation \"{other}\" is not supported (use \"gelu\" or \"relu\")."),
        };
        var capacityFactor = node.GetFloat("capacity_factor", 0f);
        if (!float.IsFinite(capacityFactor) || capacityFactor < 0)
            throw new ArgumentException($"MoE's capacity_factor must be 0 (dropless) or positive, got {capacityFactor}.");
        var normalize = node.GetInt("normalize_gates", 1);
        var weighted = node.GetInt("gate_weighted", 1);
        if (normalize is not (0 or 1)) throw new ArgumentException($"MoE's normalize_gates must be 0 or 1, got {normalize}.");
        if (weighted is not (0 or 1)) throw new ArgumentException($"MoE's gate_weighted must be 0 or 1, got {weighted}.");
        return new MoESettings((int)k, activation, capacityFactor, normalize == 1, weighted == 1);
    }
}

/// <summary>The inputs of an <c>ai.sparrow:MoE</c> node, with their shapes checked against each other.</summary>
internal sealed class MoEShapes
{
    private MoEShapes(Tensor<float> x, Tensor<float> routerWeight, ReadOnlyMemory<float> routerBias, Tensor<float> w1, ReadOnlyMemory<float> b1,
        Tensor<float> w2, ReadOnlyMemory<float> b2)
    {
        X = x;
        RouterWeight = routerWeight;
        RouterBias = routerBias;
        W1 = w1;
        B1 = b1;
        W2 = w2;
        B2 = b2;
        D = x.Shape[^1];
        Experts = routerWeight.Shape[0];
        Hidden = w1.Shape[1];
        Tokens = D == 0 ? TensorShape.Product(x.Shape[..^1]) : x.Length / D;
    }

    public Tensor<float> X { get; }
    public Tensor<float> RouterWeight { get; }
    public ReadOnlyMemory<float> RouterBias { get; }
    public Tensor<float> W1 { get; }
    public ReadOnlyMemory<float> B1 { get; }
    public Tensor<float> W2 { get; }
    public ReadOnlyMemory<float> B2 { get; }
    public int D { get; }
    public int Experts { get; }
    public int Hidden { get; }
    public int Tokens { get; }

    public static MoEShapes Read(ReadOnlySpan<Tensor?> inputs, int k)
    {
        var x = Float(inputs, 0, "X") ?? throw new InvalidOperationException("MoE's input 0 (X) is required.");
        var router = Float(inputs, 1, "router_weight") ?? throw new InvalidOperationException("MoE's input 1 (router_weight) is required.");
        var routerBias = Float(inputs, 2, "router_bias");
        var w1 = Float(inputs, 3, "w1") ?? throw new InvalidOperationException("MoE's input 3 (w1) is required.");
        var b1 = Float(inputs, 4, "b1");
        var w2 = Float(inputs, 5, "w2") ?? throw new InvalidOperationException("MoE's input 5 (w2) is required.");
        var b2 = Float(inputs, 6, "b2");
        if (x.Rank == 0) throw new InvalidOperationException("MoE's X must have rank 1 or more, got a scalar.");
        var d = x.Shape[^1];
        if (router.Rank != 2 || router.Shape[1] != d)
            throw new InvalidOperationException($"MoE's router_weight must be [E, {d}] for X {TensorShape.Format(x.Shape)}, got {TensorShape.Format(router.Shape)}.");
        var e = router.Shape[0];
        if (e < 1) throw new InvalidOperationException("MoE needs at least one expert (router_weight has 0 rows).");
        if (k > e) throw new InvalidOperationException($"MoE's k = {k} exceeds the number of experts E = {e}.");
        if (w1.Rank != 3 || w1.Shape[0] != e || w1.Shape[2] != d)
            throw new InvalidOperationException($"MoE's w1 must be [{e}, h, {d}], got {TensorShape.Format(w1.Shape)}.");
        var h = w1.Shape[1];
        if (w2.Rank != 3 || w2.Shape[0] != e || w2.Shape[1] != d || w2.Shape[2] != h)
            throw new InvalidOperationException($"MoE's w2 must be [{e}, {d}, {h}], got {TensorShape.Format(w2.Shape)}.");
        CheckBias(routerBias, "router_bias", e);
        CheckBias(b1, "b1", e * h, $"[{e}, {h}]");
        CheckBias(b2, "b2", e * d, $"[{e}, {d}]");
        return new MoEShapes(x, router, routerBias?.Memory ?? default, w1, b1?.Memory ?? default, w2, b2?.Memory ?? default);
    }

    private static void CheckBias(Tensor<float>? bias, string name, int length, string? shape = null)
    {
        if (bias is not null && bias.Length != length)
            throw new InvalidOperationException($"MoE's {name} must be {shape ?? $"[{length}]"}, got {TensorShape.Format(bias.Shape)}.");
    }

    private static Tensor<float>? Float(ReadOnlySpan<Tensor?> inputs, int index, string name)
    {
        if (index >= inputs.Length || inputs[index] is not { } t) return null;
        return t as Tensor<float> ?? throw new NotSupportedException($"MoE's {name} is {DataTypes.Name(t.ElementType)}; only float32 is supported.");
    }
}
