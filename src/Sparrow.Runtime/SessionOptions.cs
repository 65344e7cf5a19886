namespace Sparrow.Runtime;

/// <summary>How an <see cref="InferenceSession"/> compiles and runs its model.</summary>
public sealed class SessionOptions
{
    /// <summary>Threads one operator may use (GEMM, convolutions); 0 means one per core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Run the graph passes (constant folding, fusions) before planning.</summary>
    public bool OptimizeGraph { get; set; } = true;

    /// <summary>Check every float output of every node for NaN or infinity and name the first node that makes one.</summary>
    public bool CheckNumerics { get; set; }

    internal int EffectiveThreads => IntraOpThreads > 0 ? IntraOpThreads : Environment.ProcessorCount;
}
