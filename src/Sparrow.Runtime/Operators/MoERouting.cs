using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// The routing of an <c>ai.sparrow:MoE</c> layer for one batch of tokens: router logits, softmax
/// probabilities, the k chosen experts per token, their gates, and which choices survived the capacity
/// limit. Shared by the operator and the training rule (which recomputes it instead of storing it: routing
/// is deterministic, so both see the same choices).
/// </summary>
internal sealed class MoERouting
{
    private MoERouting(int tokens, int experts, int k)
    {
        Tokens = tokens;
        Experts = experts;
        K = k;
        Logits = new float[tokens * experts];
        Probabilities = new float[tokens * experts];
        Chosen = new int[tokens * k];
        Gates = new float[tokens * k];
        Kept = new bool[tokens * k];
        Counts = new int[experts];
    }

    public int Tokens { get; }

    public int Experts { get; }

    public int K { get; }

    /// <summary>Router logits [tokens, E].</summary>
    public float[] Logits { get; }

    /// <summary>Softmax of the logits over all experts [tokens, E].</summary>
    public float[] Probabilities { get; }

    /// <summary>The chosen experts [tokens, k], highest probability first (ties: lower expert index first).</summary>
    public int[] Chosen { get; }

    /// <summary>The gate of each choice [tokens, k] (before dropping: a dropped choice keeps its gate here but contributes nothing).</summary>
    public float[] Gates { get; }

    /// <summary>Whether each choice [tokens, k] was within its expert's capacity.</summary>
    public bool[] Kept { get; }

    /// <summary>Tokens each expert processes (after capacity).</summary>
    public int[] Counts { get; }

    /// <summary>The capacity per expert, or int.MaxValue when dropless.</summary>
    public int Capacity { get; private set; }

    /// <summary>Routes <paramref name="tokens"/> rows of <paramref name="x"/> [tokens, d].</summary>
    public static MoERouting Compute(ReadOnlySpan<float> x, int tokens, int d, ReadOnlySpan<float> routerWeight, ReadOnlySpan<float> routerBias,
        int experts, int k, float capacityFactor, bool normalizeGates, bool gateWeighted, int threads)
    {
        var routing = new MoERouting(tokens, experts, k);
        if (tokens > 0)
            Sgemm.Multiply(tokens, experts, d, x, d, false, routerWeight, d, true, routing.Logits, experts, columnBias: routerBias, maxThreads: threads);
        routing.Route(capacityFactor, normalizeGates, gateWeighted);
        return routing;
    }

    /// <summary>The capacity per expert for a capacity factor: ⌈factor · tokens · k / E⌉ (int.MaxValue when the factor is 0 or less).</summary>
    public static int CapacityFor(float capacityFactor, int tokens, int k, int experts) =>
        capacityFactor <= 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, Math.Ceiling((double)capacityFactor * tokens * k / experts));

    private void Route(float capacityFactor, bool normalizeGates, bool gateWeighted)
    {
        int e = Experts, k = K;
        Capacity = CapacityFor(capacityFactor, Tokens, k, e);
        for (var t = 0; t < Tokens; t++)
        {
            var logits = Logits.AsSpan(t * e, e);
            var probabilities = Probabilities.AsSpan(t * e, e);
            ThrowIfUnroutable(logits, t);
            SoftmaxRow(logits, probabilities);
            var chosen = Chosen.AsSpan(t * k, k);
            // Ranked by logit, not by probability: softmax keeps the order, but in float32 far-apart small logits all
            // become probability 0 and would tie, and the lower index would win over the higher logit.
            TopK(logits, chosen);
            var gates = Gates.AsSpan(t * k, k);
            float sum = 0;
            for (var j = 0; j < k; j++) sum += probabilities[chosen[j]];
            for (var j = 0; j < k; j++)
                gates[j] = !gateWeighted ? 1f : normalizeGates ? probabilities[chosen[j]] / sum : probabilities[chosen[j]];
            // Capacity: tokens claim slots in token order; a choice beyond its expert's capacity is dropped.
            for (var j = 0; j < k; j++)
            {
                ref var count = ref Counts[chosen[j]];
                if (count < Capacity)
                {
                    count++;
                    Kept[t * k + j] = true;
                }
            }
        }
    }

    /// <summary>
    /// The routing rule for non-finite logits: a -inf logit is allowed (that expert gets probability 0, a way to mask
    /// it), but NaN, +inf, or a row that is -inf throughout has no meaningful softmax, so no choice would mean
    /// anything: such a token fails (the session names the node) instead of being routed arbitrarily.
    /// </summary>
    private static void ThrowIfUnroutable(ReadOnlySpan<float> logits, int token)
    {
        var max = float.NegativeInfinity;
        for (var i = 0; i < logits.Length; i++)
        {
            var v = logits[i];
            if (float.IsNaN(v) || float.IsPositiveInfinity(v))
                throw new InvalidOperationException($"the router logit of token {token} for expert {i} is {v}: NaN or +infinity cannot be routed (the input or the router weights are not finite).");
            max = Math.Max(max, v);
        }
        if (logits.Length > 0 && float.IsNegativeInfinity(max))
            throw new InvalidOperationException($"every router logit of token {token} is -infinity: no expert can be chosen.");
    }

    internal static void SoftmaxRow(ReadOnlySpan<float> logits, Span<float> probabilities)
    {
        var max = float.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        double sum = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var p = MathF.Exp(logits[i] - max);
            probabilities[i] = p;
            sum += p;
        }
        var scale = (float)(1 / sum);
        for (var i = 0; i < logits.Length; i++) probabilities[i] *= scale;
    }

    /// <summary>The indices of the k largest values, largest first; ties go to the lower index. The values must not be
    /// NaN (Route refuses a row whose logits would make one; a NaN here could win or lose depending on its position).</summary>
    private static void TopK(ReadOnlySpan<float> values, Span<int> chosen)
    {
        for (var j = 0; j < chosen.Length; j++)
        {
            var best = -1;
            for (var i = 0; i < values.Length; i++)
            {
                if (chosen[..j].Contains(i)) continue;
                if (best < 0 || values[i] > values[best]) best = i;
            }
            chosen[j] = best;
        }
    }
}
