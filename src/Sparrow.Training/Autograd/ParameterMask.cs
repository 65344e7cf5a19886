using Sparrow.Tensors;

namespace Sparrow.Training.Autograd;

/// <summary>
/// Which positions of a pruned parameter may change: the kept positions, as a CSR pattern over the parameter
/// seen as a matrix [Rows = first dimension, Columns = the rest]. Pruned positions stay exactly zero through
/// training: their gradient is never computed (on the sparse path) or is zeroed, and no optimizer updates them.
/// </summary>
public sealed class ParameterMask
{
    private readonly bool[] _keep;

    /// <summary>A mask from a keep flag per element, for a parameter of <paramref name="shape"/>.</summary>
    public ParameterMask(ReadOnlySpan<bool> keep, ReadOnlySpan<int> shape)
    {
        if (keep.Length != TensorShape.Product(shape))
            throw new ArgumentException($"A mask of {keep.Length} flags does not fit a parameter of shape {TensorShape.Format(shape)}.");
        _keep = keep.ToArray();
        Rows = shape.Length == 0 ? 1 : shape[0];
        Columns = Rows == 0 ? 0 : _keep.Length / Rows;
        RowStarts = new int[Rows + 1];
        var kept = new List<int>();
        for (var r = 0; r < Rows; r++)
        {
            for (var c = 0; c < Columns; c++)
                if (_keep[r * Columns + c]) kept.Add(c);
            RowStarts[r + 1] = kept.Count;
        }
        KeptColumns = kept.ToArray();
        KeptIndices = new int[KeptColumns.Length];
        for (var r = 0; r < Rows; r++)
            for (var at = RowStarts[r]; at < RowStarts[r + 1]; at++) KeptIndices[at] = r * Columns + KeptColumns[at];
        var pruned = new List<int>(_keep.Length - KeptColumns.Length);
        for (var i = 0; i < _keep.Length; i++)
            if (!_keep[i]) pruned.Add(i);
        PrunedIndices = pruned.ToArray();
    }

    /// <summary>The flat positions of the pruned elements, ascending (a list, not a test per element: no branch to mispredict).</summary>
    public int[] PrunedIndices { get; }

    /// <summary>The mask of a pruned weight: its non-zero positions are kept, its zeros stay zero.</summary>
    public static ParameterMask FromNonZeros(Tensor<float> weight)
    {
        var values = weight.Span;
        var keep = new bool[values.Length];
        for (var i = 0; i < keep.Length; i++) keep[i] = values[i] != 0f;
        return new ParameterMask(keep, weight.Shape);
    }

    /// <summary>The first dimension of the parameter.</summary>
    public int Rows { get; }

    /// <summary>The product of the other dimensions.</summary>
    public int Columns { get; }

    /// <summary>Where each row's kept columns start in <see cref="KeptColumns"/> (Rows + 1 entries).</summary>
    public int[] RowStarts { get; }

    /// <summary>The kept columns of every row, row after row, ascending within a row.</summary>
    public int[] KeptColumns { get; }

    /// <summary>The flat positions of the kept elements, ascending.</summary>
    public int[] KeptIndices { get; }

    /// <summary>Number of kept positions.</summary>
    public int KeptCount => KeptColumns.Length;

    /// <summary>Number of positions.</summary>
    public int Length => _keep.Length;

    /// <summary>Fraction of positions kept.</summary>
    public double Density => _keep.Length == 0 ? 1 : (double)KeptColumns.Length / _keep.Length;

    /// <summary>Whether the flat position <paramref name="index"/> is kept.</summary>
    public bool IsKept(int index) => _keep[index];

    /// <summary>Sets every pruned position of <paramref name="values"/> to exactly zero.</summary>
    public void ZeroPruned(Span<float> values)
    {
        if (values.Length != _keep.Length) throw new ArgumentException($"Expected {_keep.Length} values, got {values.Length}.");
        foreach (var i in PrunedIndices) values[i] = 0f;
    }
}
