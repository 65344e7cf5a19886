namespace Sparrow.Pruning.SparseGpt;

/// <summary>How the unstructured mask is chosen inside each block of columns.</summary>
public enum SparseGptMaskScope
{
    /// <summary>Each output row (or row of pattern blocks) prunes the same fraction of the block, so all end up equally sparse.</summary>
    PerRow,

    /// <summary>The paper's choice: the block's scores compete across all rows, so rows may differ in sparsity.</summary>
    PerBlock,
}

/// <summary>
/// What SparseGPT is asked to do: unstructured sparsity (<see cref="Unstructured"/>) or N:M along the input axis
/// (<see cref="NOfM"/>, N kept of every M), with the block size, damping and threads of the solver.
/// </summary>
internal sealed record SparseGptOptions
{
    private SparseGptOptions(double sparsity, int keep, int group, int blockRows = 1, int blockColumns = 1)
    {
        Sparsity = sparsity;
        KeepPerGroup = keep;
        GroupSize = group;
        PatternBlockRows = blockRows;
        PatternBlockColumns = blockColumns;
    }

    /// <summary>Prunes the given fraction of the weight, anywhere.</summary>
    public static SparseGptOptions Unstructured(double sparsity) => Blocks(sparsity, 1, 1);

    /// <summary>
    /// Prunes the given fraction of the weight in whole blocks of <paramref name="blockRows"/> outputs by
    /// <paramref name="blockColumns"/> consecutive inputs (1x4, 4x4, ...), scored by the sum of their costs.
    /// </summary>
    public static SparseGptOptions Blocks(double sparsity, int blockRows, int blockColumns)
    {
        if (double.IsNaN(sparsity) || sparsity < 0 || sparsity >= 1)
            throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "Sparsity must be in [0, 1).");
        if (blockRows < 1 || blockColumns < 1)
            throw new ArgumentOutOfRangeException(nameof(blockRows), $"A {blockRows}x{blockColumns} block is empty: both sides must be >= 1.");
        return new SparseGptOptions(sparsity, 0, 0, blockRows, blockColumns);
    }

    /// <summary>Keeps <paramref name="n"/> weights of every <paramref name="m"/> consecutive inputs of a row (2:4 keeps 2 of 4).</summary>
    public static SparseGptOptions NOfM(int n, int m)
    {
        if (m < 1 || n < 0 || n > m)
            throw new ArgumentOutOfRangeException(nameof(n), $"{n}:{m} is not an N:M pattern: it needs 0 <= N <= M and M >= 1.");
        return new SparseGptOptions((double)(m - n) / m, n, m);
    }

    /// <summary>Fraction of the weight that becomes zero.</summary>
    public double Sparsity { get; }

    /// <summary>N of an N:M pattern; 0 when unstructured.</summary>
    public int KeepPerGroup { get; }

    /// <summary>M of an N:M pattern; 0 when unstructured.</summary>
    public int GroupSize { get; }

    public bool IsNOfM => GroupSize > 0;

    /// <summary>Outputs per pruned block (1 unless <see cref="Blocks"/>).</summary>
    public int PatternBlockRows { get; }

    /// <summary>Consecutive inputs per pruned block (1 unless <see cref="Blocks"/>).</summary>
    public int PatternBlockColumns { get; }

    /// <summary>Whether pruning happens in blocks larger than one weight.</summary>
    public bool IsBlocked => PatternBlockRows * PatternBlockColumns > 1;

    /// <summary>
    /// Columns processed together before their errors are passed on to the later columns (the paper's B); the
    /// unstructured mask is chosen once per such block. Rounded up to a multiple of M or of the pattern block's width.
    /// </summary>
    public int BlockSize
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = 128;

    /// <summary>Added to the Hessian's diagonal, as a fraction of its mean diagonal.</summary>
    public double Damping
    {
        get;
        init
        {
            if (double.IsNaN(value) || value < 0) throw new ArgumentOutOfRangeException(nameof(value), value, "Damping must be >= 0.");
            field = value;
        }
    } = 0.01;

    public SparseGptMaskScope MaskScope { get; init; } = SparseGptMaskScope.PerRow;

    /// <summary>Threads over output rows; 0 uses every core.</summary>
    public int Threads
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            field = value;
        }
    }

    public override string ToString() =>
        IsNOfM ? $"{KeepPerGroup}:{GroupSize}"
        : IsBlocked ? $"{Sparsity:P0} in {PatternBlockRows}x{PatternBlockColumns} blocks"
        : $"{Sparsity:P0} unstructured";
}
