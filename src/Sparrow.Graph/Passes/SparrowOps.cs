namespace Sparrow.Graph.Passes;

/// <summary>
/// Names of Sparrow's own operators, which the fusions emit. They live in the domain "ai.sparrow" (the same
/// string as the runtime's <c>OperatorContext.SparrowDomain</c>; Sparrow.Graph cannot reference the runtime).
/// </summary>
public static class SparrowOps
{
    public const string Domain = "ai.sparrow";

    /// <summary>GELU, x/2·(1 + erf(x/√2)); input X, output Y of the same shape.</summary>
    public const string Gelu = "Gelu";

    /// <summary>act(X·W + b): inputs X [..., K], W [K, N], optional b [N]; attribute <c>activation</c> "", "Relu" or "Gelu".</summary>
    public const string Linear = "Linear";

    public const string ActivationAttribute = "activation";
}
