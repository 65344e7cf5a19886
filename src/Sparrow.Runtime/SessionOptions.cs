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

    /// <summary>
    /// Refuse, when the session is created, a model whose float weights hold NaN, with a
    /// <see cref="Sparrow.Graph.ModelException"/> that names the weight (on by default). Checked: initializers and
    /// Constant nodes (value, value_float, value_floats), also inside subgraphs (If, Loop, Scan bodies). Positive and
    /// negative infinity are allowed, since models keep them on purpose (a -inf attention mask).
    /// </summary>
    public bool CheckWeights { get; set; } = true;

    /// <summary>
    /// Refuse a <see cref="InferenceSession.Run(IReadOnlyDictionary{string, Sparrow.Tensors.Tensor})"/> whose float inputs hold NaN or infinity, with an
    /// <see cref="InferenceException"/> that names the input (on by default; one vectorised pass over each float input).
    /// </summary>
    public bool CheckInputs { get; set; } = true;

    /// <summary>
    /// The kernel for constant MatMul, Gemm and Linear weights: "auto" (default: dense, or the sparse format that
    /// measures fastest on this machine), "dense", or the name of a <see cref="Sparrow.Tensors.Sparse.SparseKernelTable"/>
    /// entry (any case) to force it where the weight fits it. Weights that break a forced format's pattern take
    /// the best other choice, with the reason in <see cref="InferenceSession.WeightKernels"/>; weights with under
    /// 30% zeros (layers that were not pruned) always stay dense.
    /// </summary>
    public string SparseKernel { get; set; } = "auto";

    /// <summary>Every value <see cref="SparseKernel"/> accepts: "auto", "dense", then the kernel table's names.</summary>
    public static IReadOnlyList<string> SparseKernelNames { get; } =
        ["auto", "dense", .. Sparrow.Tensors.Sparse.SparseKernelTable.All.Select(e => e.Name)];

    /// <summary>The JSON file of measured kernel choices; null: $SPARROW_CACHE_DIR/kernel-choices.json, else ~/.cache/sparrow/kernel-choices.json.</summary>
    public string? KernelCachePath { get; set; }

    /// <summary>Read and write the kernel-choice cache; off, every session measures anew and touches no file.</summary>
    public bool UseKernelCache { get; set; } = true;

    /// <summary>
    /// Activation sparsity (TEAL-style): a magnitude threshold per constant MatMul or Linear weight, keyed by the
    /// weight's initializer name (as calibrated by Sparrow.Pruning's ActivationSparsity). When such a layer gets
    /// one input row (token-by-token decoding), inputs whose magnitude is at or under its threshold count as zero
    /// and their weight columns are skipped (<see cref="Sparrow.Tensors.Kernels.SparseInputGemv"/>). Inputs of more
    /// rows take the normal path unchanged, unless <see cref="ThresholdEveryRow"/>. Null: off.
    /// </summary>
    public IReadOnlyDictionary<string, float>? ActivationThresholds { get; set; }

    /// <summary>
    /// Threshold the inputs of every row, not only one-row inputs (then run the normal kernel), so that a whole
    /// sequence evaluates as if every token had been decoded one by one with activation sparsity.
    /// </summary>
    public bool ThresholdEveryRow { get; set; }

    /// <summary>4 GiB: the default of <see cref="MaxTensorBytes"/>, as many bytes as the loader's largest tensor (2^30 elements) takes in float32.</summary>
    public const long DefaultMaxTensorBytes = 4L << 30;

    /// <summary>
    /// The most bytes one tensor may take when its size comes from the graph's own values (ConstantOfShape, Expand, Tile,
    /// broadcasting element-wise operators), at run time and while constant folding. A larger request fails before
    /// anything is allocated, naming the node and the shape: a hostile or broken model cannot make the process
    /// allocate without bound. Default <see cref="DefaultMaxTensorBytes"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to 0 or less.</exception>
    public long MaxTensorBytes
    {
        get => _maxTensorBytes;
        set => _maxTensorBytes = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "MaxTensorBytes must be positive.");
    }

    private long _maxTensorBytes = DefaultMaxTensorBytes;

    internal int EffectiveThreads => IntraOpThreads > 0 ? IntraOpThreads : Environment.ProcessorCount;
}
