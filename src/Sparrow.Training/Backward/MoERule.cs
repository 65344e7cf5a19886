using Sparrow.Graph;
using Sparrow.Runtime.Operators;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Training.Backward;

/// <summary>
/// Sparrow's mixture-of-experts layer (ai.sparrow:MoE). The routing (which k experts, which choices fit the
/// capacity) is piecewise constant, so it is recomputed from the inputs and held fixed; gradients flow
/// through each kept expert's FFN (to X, w1, b1, w2, b2, scaled by its gate) and through the gate values to
/// the router logits (softmax over the chosen experts when normalize_gates = 1, over all experts otherwise),
/// plus whatever flows into the optional router_logits output (the auxiliary losses); from the logits to X,
/// router_weight and router_bias as for a linear layer. No gradient reaches the router when gate_weighted = 0
/// except through router_logits.
/// </summary>
[BackwardRule("MoE", Domain = OperatorContext.SparrowDomain)]
internal sealed class MoERule : BackwardRule
{
    private readonly MoESettings _settings;

    /// <summary>Compiles the rule.</summary>
    public MoERule(Node node, OperatorContext context) : base(node) => _settings = MoESettings.FromNode(node);

    /// <inheritdoc/>
    public override Tensor<float>?[] Backward(BackwardContext context)
    {
        var s = _settings;
        var layer = MoEShapes.Read(context.Inputs, s.K);
        int d = layer.D, h = layer.Hidden, e = layer.Experts, k = s.K, tokens = layer.Tokens;
        var threads = context.Threads;
        var x = layer.X.Span;
        var routing = MoERouting.Compute(x, tokens, d, layer.RouterWeight.Span, layer.RouterBias.Span, e, k, s.CapacityFactor, s.NormalizeGates,
            s.GateWeighted, threads);
        var dy = context.OutputGradients[0] is { } dyTensor ? dyTensor.Span : default;

        var dx = new float[tokens * d];
        var dW1 = context.Needs(3) ? new float[e * h * d] : null;
        var dB1 = context.Needs(4) ? new float[e * h] : null;
        var dW2 = context.Needs(5) ? new float[e * d * h] : null;
        var dB2 = context.Needs(6) ? new float[e * d] : null;
        // dL/dgate for each choice [tokens, k].
        var dGate = new float[tokens * k];

        if (!dy.IsEmpty)
        {
            var w1 = layer.W1.Span;
            var w2 = layer.W2.Span;
            for (var expert = 0; expert < e; expert++)
            {
                // This expert's kept choices, in token order.
                var slots = new List<int>();
                for (var c = 0; c < tokens * k; c++)
                    if (routing.Kept[c] && routing.Chosen[c] == expert) slots.Add(c);
                var n = slots.Count;
                if (n == 0) continue;
                var xe = new float[n * d];
                var dOut = new float[n * d];
                for (var r = 0; r < n; r++)
                {
                    var t = slots[r] / k;
                    x.Slice(t * d, d).CopyTo(xe.AsSpan(r * d, d));
                    var gate = routing.Gates[slots[r]];
                    var dyRow = dy.Slice(t * d, d);
                    for (var i = 0; i < d; i++) dOut[r * d + i] = gate * dyRow[i];
                }
                var w1e = w1.Slice(expert * h * d, h * d);
                var w2e = w2.Slice(expert * d * h, d * h);
                // Forward again: Z = Xe·W1ᵀ + b1, A = act(Z), O = A·W2ᵀ + b2.
                var z = new float[n * h];
                Sgemm.Multiply(n, h, d, xe, d, false, w1e, d, true, z, h,
                    columnBias: layer.B1.IsEmpty ? default : layer.B1.Span.Slice(expert * h, h), maxThreads: threads);
                var a = new float[n * h];
                var relu = s.Activation == FusedActivation.Relu;
                for (var i = 0; i < a.Length; i++) a[i] = relu ? Math.Max(z[i], 0f) : ErfKernel.Gelu(z[i]);
                if (s.GateWeighted)
                {
                    var o = new float[n * d];
                    Sgemm.Multiply(n, d, h, a, h, false, w2e, h, true, o, d,
                        columnBias: layer.B2.IsEmpty ? default : layer.B2.Span.Slice(expert * d, d), maxThreads: threads);
                    for (var r = 0; r < n; r++)
                    {
                        var t = slots[r] / k;
                        double sum = 0;
                        for (var i = 0; i < d; i++) sum += (double)dy[t * d + i] * o[r * d + i];
                        dGate[slots[r]] = (float)sum;
                    }
                }
                // dW2[e] [d, h] += dOᵀ·A; db2 += Σ dO.
                if (dW2 is not null)
                    Sgemm.Multiply(d, h, n, dOut, d, true, a, h, false, dW2.AsSpan(expert * d * h, d * h), h, maxThreads: threads);
                if (dB2 is not null)
                    for (var r = 0; r < n; r++)
                        for (var i = 0; i < d; i++) dB2[expert * d + i] += dOut[r * d + i];
                // dZ = (dO·W2[e]) ⊙ act'(Z).
                var dz = new float[n * h];
                Sgemm.Multiply(n, h, d, dOut, d, false, w2e, h, false, dz, h, maxThreads: threads);
                for (var i = 0; i < dz.Length; i++) dz[i] *= relu ? (z[i] > 0 ? 1f : 0f) : GeluRule.ExactDerivative(z[i]);
                if (dW1 is not null)
                    Sgemm.Multiply(h, d, n, dz, h, true, xe, d, false, dW1.AsSpan(expert * h * d, h * d), d, maxThreads: threads);
                if (dB1 is not null)
                    for (var r = 0; r < n; r++)
                        for (var j = 0; j < h; j++) dB1[expert * h + j] += dz[r * h + j];
                if (context.Needs(0))
                {
                    var dxe = new float[n * d];
                    Sgemm.Multiply(n, d, h, dz, h, false, w1e, d, false, dxe, d, maxThreads: threads);
                    for (var r = 0; r < n; r++)
                    {
                        var t = slots[r] / k;
                        for (var i = 0; i < d; i++) dx[t * d + i] += dxe[r * d + i];
                    }
                }
            }
        }

        // Router logits: through the gates, plus the gradient of the router_logits output.
        var dLogits = new float[tokens * e];
        if (s.GateWeighted && !dy.IsEmpty)
            for (var t = 0; t < tokens; t++)
            {
                var chosen = routing.Chosen.AsSpan(t * k, k);
                var gates = routing.Gates.AsSpan(t * k, k);
                var dg = dGate.AsSpan(t * k, k);
                var row = dLogits.AsSpan(t * e, e);
                if (s.NormalizeGates)
                {
                    // g = softmax over the chosen logits: dl_i = g_i·(dg_i − Σ_j g_j·dg_j).
                    double dot = 0;
                    for (var j = 0; j < k; j++) dot += (double)gates[j] * dg[j];
                    for (var j = 0; j < k; j++) row[chosen[j]] += (float)(gates[j] * (dg[j] - dot));
                }
                else
                {
                    // g = p (softmax over all experts): dl_i = p_i·(dp_i − Σ_j p_j·dp_j), dp zero off the chosen.
                    var p = routing.Probabilities.AsSpan(t * e, e);
                    double dot = 0;
                    for (var j = 0; j < k; j++) dot += (double)p[chosen[j]] * dg[j];
                    for (var i = 0; i < e; i++) row[i] += (float)(-p[i] * dot);
                    for (var j = 0; j < k; j++) row[chosen[j]] += p[chosen[j]] * dg[j];
                }
            }
        if (context.OutputGradients.Length > 2 && context.OutputGradients[2] is { } dLogitsOut)
        {
            var extra = dLogitsOut.Span;
            for (var i = 0; i < dLogits.Length; i++) dLogits[i] += extra[i];
        }

        var result = new Tensor<float>?[context.Inputs.Length];
        if (context.Needs(0))
        {
            // dX += dLogits·router_weight.
            Sgemm.Multiply(tokens, d, e, dLogits, e, false, layer.RouterWeight.Span, d, false, dx, d, beta: 1f, maxThreads: threads);
            result[0] = Tensor<float>.FromArray(dx, layer.X.CopyShape());
        }
        if (context.Needs(1))
        {
            var dRouter = new float[e * d];
            Sgemm.Multiply(e, d, tokens, dLogits, e, true, x, d, false, dRouter, d, maxThreads: threads);
            result[1] = Tensor<float>.FromArray(dRouter, e, d);
        }
        if (context.Needs(2) && context.Inputs[2] is not null)
        {
            var dBias = new float[e];
            for (var t = 0; t < tokens; t++)
                for (var i = 0; i < e; i++) dBias[i] += dLogits[t * e + i];
            result[2] = Tensor<float>.FromArray(dBias, e);
        }
        if (dW1 is not null) result[3] = Tensor<float>.FromArray(dW1, e, h, d);
        if (dB1 is not null && context.Inputs[4] is not null) result[4] = Tensor<float>.FromArray(dB1, e, h);
        if (dW2 is not null) result[5] = Tensor<float>.FromArray(dW2, e, d, h);
        if (dB2 is not null && context.Inputs.Length > 6 && context.Inputs[6] is not null) result[6] = Tensor<float>.FromArray(dB2, e, d);
        return result;
    }
}
