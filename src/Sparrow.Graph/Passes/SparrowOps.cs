namespace Sparrow.Graph.Passes;

/// <summary>
/// Names of Sparrow's own operators, which the fusions emit. They live in the domain "ai.sparrow" (the same
/// string as the runtime's <c>OperatorContext.SparrowDomain</c>; Sparrow.Graph cannot reference the runtime).
/// </summary>
public static class SparrowOps
{
    /// <summary>The domain of Sparrow's own operators.</summary>
    public const string Domain = "ai.sparrow";

    /// <summary>GELU, x/2·(1 + erf(x/√2)); input X, output Y of the same shape.</summary>
    public const string Gelu = "Gelu";

    /// <summary>act(X·W + b): inputs X [..., K], W [K, N], optional b [N]; attribute <c>activation</c> "", "Relu" or "Gelu".</summary>
    public const string Linear = "Linear";

    /// <see cref="Linear"/>'s attribute naming the fused activation: "", "Relu" or "Gelu".
    public const string ActivationAttribute = "activation";

    /// <summary>
    /// Scaled dot-product attention, softmax(q·kᵀ ∘ scale + mask)·v per batch and head, as
    /// <see cref="AttentionFusion"/> makes it. Inputs: Q [B, Sq, H, D], K [B, Sk, H, D], V [B, Sk, H, Dv]
    /// (heads not yet moved in front: the layout a Reshape of a Linear's output gives), optional additive mask
    /// (float32, rank at most 4, broadcast to [B, H, Sq, Sk]); output [B, Sq, H, Dv]. B and H may be 1 on any
    /// operand (broadcast, as MatMul does). Attributes, at most one: <c>divisor</c> (scores / divisor) or
    /// <c>scale</c> (scores · scale); without either the scores are not scaled.
    /// </summary>
    public const string Attention = "Attention";

    /// <summary>
    /// LayerNormalization(A + B) over the last axis, as <see cref="AddLayerNormFusion"/> makes it: inputs A, B
    /// (same shape), scale and optional bias as LayerNormalization takes them; attribute <c>epsilon</c>; output Y
    /// of A's shape.
    /// </summary>
    public const string AddLayerNormalization = "AddLayerNormalization";

    /// <summary>
    /// Mixture-of-experts FFN (docs/operators/moe.md): inputs X [..., d], router_weight [E, d], router_bias [E]
    /// (optional), w1 [E, h, d], b1 [E, h] (optional), w2 [E, d, h], b2 [E, d] (optional); outputs Y (X's shape),
    /// optional expert_counts (int64 [E]) and router_logits ([..., E]). Attributes k, activation, capacity_factor,
    /// normalize_gates, gate_weighted. <see cref="MixtureOfExperts.ExpandToStandardOnnx"/> rewrites it into plain ONNX.
    /// </summary>
    public const string MoE = "MoE";

    /// <see cref="Attention"/>'s attribute: the scores are divided by it.
    public const string DivisorAttribute = "divisor";

    /// <see cref="Attention"/>'s attribute: the scores are multiplied by it.
    public const string ScaleAttribute = "scale";
}
