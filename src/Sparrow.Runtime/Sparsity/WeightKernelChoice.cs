namespace Sparrow.Runtime.Sparsity;

/// <summary>How a weight's kernel was chosen.</summary>
public enum KernelChoiceSource
{
    /// <summary>Too few zeros for a sparse format to pay: dense without measuring.</summary>
    Threshold,

    /// <summary>Every candidate was timed on this machine now.</summary>
    Measured,

    /// <summary>Taken from the kernel-choice cache, measured earlier on this machine for the same shape.</summary>
    Cached,

    /// <summary>Named by <see cref="SessionOptions.SparseKernel"/>.</summary>
    Forced,

    /// <summary>The forced format could not hold this weight; the best other candidate was taken instead.</summary>
    Fallback,

    /// <summary>The operator needs the dense weight (e.g. no sparse path for its attributes).</summary>
    Required,
}

/// <summary>One candidate's measured time per call, at one row and at a batch of rows.</summary>
public sealed record KernelTiming(string Kernel, double OneRowMilliseconds, double BatchMilliseconds)
{
    /// <summary>The two timings added: what the choice minimises.</summary>
    public double TotalMilliseconds => OneRowMilliseconds + BatchMilliseconds;
}

/// <summary>
/// The storage format and kernel a session chose for one constant weight of a MatMul, Gemm or Linear node.
/// </summary>
/// <param name="Rows">Output features (N).</param>
/// <param name="Columns">Input features (K).</param>
/// <param name="Sparsity">Fraction of the weight's elements that are zero.</param>
/// <param name="Kernel">"Dense" or the name of a <see cref="Sparrow.Tensors.Sparse.SparseKernelTable"/> entry.</param>
/// <param name="Bytes">Bytes the chosen form occupies in memory.</param>
/// <param name="DenseBytes">Bytes of the same weight as plain float32 (Rows x Columns x 4).</param>
/// <param name="Reason">Why this kernel, in words (measured, cached, forced, fallback and its cause).</param>
/// <param name="Timings">The candidates' measured times when they were measured now; empty otherwise.</param>
/// <param name="BatchRows">The row count of the batch measurement.</param>
public sealed record WeightKernelChoice(
    string NodeName,
    string WeightName,
    int Rows,
    int Columns,
    double Sparsity,
    string Kernel,
    string Description,
    long Bytes,
    long DenseBytes,
    KernelChoiceSource Source,
    string Reason,
    IReadOnlyList<KernelTiming> Timings,
    int BatchRows)
{
    /// <summary>Whether the weight runs in a sparse format rather than dense.</summary>
    public bool IsSparse => !string.Equals(Kernel, WeightKernelSelector.DenseName, StringComparison.OrdinalIgnoreCase);
}
