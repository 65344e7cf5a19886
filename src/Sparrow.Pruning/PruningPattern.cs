using System.Globalization;

namespace Sparrow.Pruning;

/// <summary>The kinds of <see cref="PruningPattern"/>.</summary>
public enum PatternKind
{
    /// <summary>Any weight may go.</summary>
    Unstructured,

    /// <summary>N kept in every group of M consecutive input features of an output row.</summary>
    NM,

    /// <summary>Whole blocks of Rows outputs × Columns consecutive inputs are kept or pruned together.</summary>
    Block,
}

/// <summary>
/// The shape a mask must have. Patterns are read on the weight seen as [out, in] (the input, reduction axis
/// last; a Conv's [O, I, kh, kw] as [O, I·kh·kw]), so N:M groups and block columns run along the inputs, as the
/// sparse kernels (NMSparseMatrix, BsrMatrix with W = [Rows=out, Columns=in]) read them.
/// Text forms: "unstructured", "N:M" (N &lt; M, e.g. "2:4", "4:8"), "RxC" (e.g. "1x4", "4x4").
/// </summary>
public sealed record PruningPattern
{
    private PruningPattern(PatternKind kind, int n, int m, int blockRows, int blockColumns)
    {
        Kind = kind;
        N = n;
        M = m;
        BlockRows = blockRows;
        BlockColumns = blockColumns;
    }

    /// <summary>Any weight may go.</summary>
    public static PruningPattern Unstructured { get; } = new(PatternKind.Unstructured, 0, 0, 1, 1);

    /// <summary>At most <paramref name="n"/> kept in every group of <paramref name="m"/> consecutive inputs (sparsity 1 − N/M).</summary>
    /// <exception cref="ArgumentException">Not 1 ≤ N &lt; M.</exception>
    public static PruningPattern NM(int n, int m)
    {
        if (n < 1 || n >= m)
            throw new ArgumentException($"N:M pattern {n}:{m} needs 1 <= N < M (e.g. 2:4, 4:8).");
        return new(PatternKind.NM, n, m, 1, 1);
    }

    /// <summary>Whole blocks of <paramref name="rows"/> outputs × <paramref name="columns"/> inputs kept or pruned together.</summary>
    /// <exception cref="ArgumentException">A side is below 1.</exception>
    public static PruningPattern Block(int rows, int columns)
    {
        if (rows < 1 || columns < 1)
            throw new ArgumentException($"Block pattern {rows}x{columns} needs at least 1 row and 1 column (e.g. 1x4, 4x4).");
        return new(PatternKind.Block, 0, 0, rows, columns);
    }

    /// <summary>Unstructured, N:M or block.</summary>
    public PatternKind Kind { get; }

    /// <summary>Kept per group (N:M only).</summary>
    public int N { get; }

    /// <summary>Group size along the inputs (N:M only).</summary>
    public int M { get; }

    /// <summary>Output rows per block (1 unless a block pattern).</summary>
    public int BlockRows { get; }

    /// <summary>Input columns per block (1 unless a block pattern).</summary>
    public int BlockColumns { get; }

    /// <summary>The sparsity the pattern itself fixes: 1 − N/M for N:M, null otherwise.</summary>
    public double? ImpliedSparsity => Kind == PatternKind.NM ? 1 - (double)N / M : null;

    /// <summary>Reads "unstructured", "N:M" or "RxC"; anything else throws a FormatException that lists the forms.</summary>
    public static PruningPattern Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Equals("unstructured", StringComparison.OrdinalIgnoreCase)) return Unstructured;
        var colon = t.Split(':');
        if (colon.Length == 2 && TryInt(colon[0], out var n) && TryInt(colon[1], out var m))
        {
            if (n < 1 || n >= m) throw new FormatException($"Pattern '{text}': N:M needs 1 <= N < M (e.g. 2:4, 4:8).");
            return NM(n, m);
        }
        var x = t.Split('x', 'X', '×');
        if (x.Length == 2 && TryInt(x[0], out var rows) && TryInt(x[1], out var columns))
        {
            if (rows < 1 || columns < 1) throw new FormatException($"Pattern '{text}': block sizes must be at least 1 (e.g. 1x4, 4x4).");
            return Block(rows, columns);
        }
        throw new FormatException($"Pattern '{text}' is not known; use unstructured, N:M (e.g. 2:4, 4:8) or a block RxC (e.g. 1x4, 4x4).");
    }

    private static bool TryInt(string s, out int value) =>
        int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>
    /// Throws <see cref="PruningRequestException"/> when a weight of [<paramref name="rows"/> out, <paramref name="columns"/> in]
    /// cannot follow the pattern exactly (N:M groups and blocks must tile it).
    /// </summary>
    public void CheckFits(string weightName, int rows, int columns)
    {
        switch (Kind)
        {
            case PatternKind.NM when columns % M != 0:
                throw new PruningRequestException($"{this} needs every target's input dimension to be divisible by {M}; '{weightName}' has {columns}.");
            case PatternKind.Block when columns % BlockColumns != 0:
                throw new PruningRequestException($"Block {this} needs every target's input dimension to be divisible by {BlockColumns}; '{weightName}' has {columns}.");
            case PatternKind.Block when rows % BlockRows != 0:
                throw new PruningRequestException($"Block {this} needs every target's output dimension to be divisible by {BlockRows}; '{weightName}' has {rows}.");
        }
    }

    /// <summary>The text form that <see cref="Parse"/> reads: "unstructured", "2:4", "4x4".</summary>
    public override string ToString() => Kind switch
    {
        PatternKind.NM => $"{N}:{M}",
        PatternKind.Block => $"{BlockRows}x{BlockColumns}",
        _ => "unstructured",
    };
}

/// <summary>A pruning request that cannot be met (a pattern that does not fit a weight, a sparsity out of range, ...); the message says which and why.</summary>
public sealed class PruningRequestException(string message) : ArgumentException(message);
