namespace Sparrow.Tensors.Sparse;

/// <summary>A sparse matrix that can list the kept entries of one row, which the shared multi-row kernel consumes.</summary>
internal unsafe interface ISparseRowSource
{
    int Rows { get; }

    int Columns { get; }

    /// <summary>The most entries <see cref="DecodeRow"/> can return for one row.</summary>
    int MaxRowEntries { get; }

    /// <summary>Writes the kept (column, value) pairs of <paramref name="row"/>; returns how many. Columns may repeat (values add).</summary>
    int DecodeRow(int row, int* columns, float* values);

    /// <summary>Relative work of one row, for splitting rows among threads.</summary>
    long RowCost(int row);
}
