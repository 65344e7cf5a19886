using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Runtime.Operators.Pooling;

/// <summary>
/// The pooling attributes that MaxPool and AveragePool share (kernel_shape, strides, pads, dilations,
/// ceil_mode, auto_pad), read once per node and resolved against an input shape into output sizes and
/// pads. Up to three spatial dimensions; fewer are padded to three with size-1 dimensions so that one
/// loop serves 1-D, 2-D and 3-D.
/// </summary>
internal sealed class PoolAttributes
{
    public const int MaxSpatial = 3;

    private readonly string _opType;
    private readonly long[] _kernel;
    private readonly long[]? _strides;
    private readonly long[]? _pads;
    private readonly long[]? _dilations;
    private readonly bool _ceilMode;
    private readonly string _autoPad;

    public PoolAttributes(Node node)
    {
        _opType = node.OpType;
        _kernel = node.GetInts("kernel_shape") ?? throw new ArgumentException($"{_opType} needs the 'kernel_shape' attribute.");
        if (_kernel.Length is 0 or > MaxSpatial)
            throw new NotSupportedException($"{_opType} with {_kernel.Length} spatial dimensions is not supported (1 to {MaxSpatial}).");
        _strides = node.GetInts("strides");
        _pads = node.GetInts("pads");
        _dilations = node.GetInts("dilations");
        _ceilMode = node.GetInt("ceil_mode", 0) != 0;
        _autoPad = node.GetString("auto_pad", "NOTSET");
        if (_autoPad is not ("NOTSET" or "VALID" or "SAME_UPPER" or "SAME_LOWER"))
            throw new NotSupportedException($"{_opType} auto_pad '{_autoPad}' is not supported.");
        var n = _kernel.Length;
        Check(_strides, n, "strides");
        Check(_dilations, n, "dilations");
        if (_pads is not null && _pads.Length != 2 * n)
            throw new ArgumentException($"{_opType} pads has {_pads.Length} values; {2 * n} expected (begin and end for each of {n} spatial dimensions).");
        foreach (var k in _kernel) if (k < 1) throw new ArgumentException($"{_opType} kernel_shape [{string.Join(",", _kernel)}] must be positive.");
        if (_strides is not null) foreach (var s in _strides) if (s < 1) throw new ArgumentException($"{_opType} strides [{string.Join(",", _strides)}] must be positive.");
        if (_dilations is not null) foreach (var d in _dilations) if (d < 1) throw new ArgumentException($"{_opType} dilations [{string.Join(",", _dilations)}] must be positive.");
        if (_pads is not null) foreach (var p in _pads) if (p < 0) throw new ArgumentException($"{_opType} pads [{string.Join(",", _pads)}] must not be negative.");
    }

    public int SpatialRank => _kernel.Length;

    private void Check(long[]? values, int n, string name)
    {
        if (values is not null && values.Length != n)
            throw new ArgumentException($"{_opType} {name} has {values.Length} values but kernel_shape has {n}.");
    }

    /// <summary>Output sizes and pads for an input of shape [N, C, spatial...].</summary>
    public PoolGeometry Resolve(ReadOnlySpan<int> inputShape)
    {
        var n = SpatialRank;
        if (inputShape.Length != n + 2)
            throw new ArgumentException($"{_opType} input has shape {TensorShape.Format(inputShape)}, but kernel_shape [{string.Join(",", _kernel)}] needs rank {n + 2} ([N, C, {n} spatial]).");
        var g = new PoolGeometry(inputShape[0], inputShape[1]);
        var offset = MaxSpatial - n;
        for (var d = 0; d < n; d++)
        {
            var input = inputShape[d + 2];
            var kernel = (int)_kernel[d];
            var stride = (int)(_strides?[d] ?? 1);
            var dilation = (int)(_dilations?[d] ?? 1);
            var window = (long)(kernel - 1) * dilation + 1;
            long padBegin = 0, padEnd = 0, output;
            switch (_autoPad)
            {
                case "VALID":
                    output = (input - window) / stride + 1;
                    if (input < window) output = 0;
                    break;
                case "SAME_UPPER":
                case "SAME_LOWER":
                    output = (input + stride - 1) / stride;
                    var total = Math.Max(0, (output - 1) * stride + window - input);
                    padBegin = _autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    padEnd = total - padBegin;
                    break;
                default:
                    padBegin = _pads?[d] ?? 0;
                    padEnd = _pads?[d + n] ?? 0;
                    var span = input + padBegin + padEnd - window;
                    if (span < 0) { output = 0; break; }
                    output = _ceilMode ? (span + stride - 1) / stride + 1 : span / stride + 1;
                    // The last window must start inside the input or its leading padding.
                    if (_ceilMode && (output - 1) * stride >= input + padBegin) output--;
                    break;
            }
            if (output < 1)
                throw new ArgumentException($"{_opType} window of {window} (kernel {kernel}, dilation {dilation}) does not fit spatial dimension {d} of size {input} with pads {padBegin},{padEnd}.");
            g.Input[offset + d] = input;
            g.Output[offset + d] = (int)output;
            g.Kernel[offset + d] = kernel;
            g.Stride[offset + d] = stride;
            g.Dilation[offset + d] = dilation;
            g.PadBegin[offset + d] = (int)padBegin;
            g.PadEnd[offset + d] = (int)padEnd;
        }
        return g;
    }
}

/// <summary>Resolved sizes, always three spatial dimensions (leading ones of size 1 when the input has fewer).</summary>
internal sealed class PoolGeometry(int batch, int channels)
{
    public int Batch { get; } = batch;
    public int Channels { get; } = channels;
    public int[] Input { get; } = [1, 1, 1];
    public int[] Output { get; } = [1, 1, 1];
    public int[] Kernel { get; } = [1, 1, 1];
    public int[] Stride { get; } = [1, 1, 1];
    public int[] Dilation { get; } = [1, 1, 1];
    public int[] PadBegin { get; } = [0, 0, 0];
    public int[] PadEnd { get; } = [0, 0, 0];

    public int InputPlane => Input[0] * Input[1] * Input[2];
    public int OutputPlane => Output[0] * Output[1] * Output[2];

    /// <summary>The output shape [N, C, spatial...] with the input's number of spatial dimensions.</summary>
    public int[] OutputShape(int spatialRank)
    {
        var shape = new int[spatialRank + 2];
        shape[0] = Batch;
        shape[1] = Channels;
        for (var d = 0; d < spatialRank; d++) shape[d + 2] = Output[PoolAttributes.MaxSpatial - spatialRank + d];
        return shape;
    }

    /// <summary>
    /// For dimension <paramref name="d"/> and each output index: the input coordinates of the window's taps
    /// that fall inside the input, and how many taps fall inside the input plus its explicit padding
    /// (the divisor of an average that counts padding).
    /// </summary>
    public (int[][] Taps, int[] PaddedCount) Taps(int d)
    {
        var taps = new int[Output[d]][];
        var padded = new int[Output[d]];
        var list = new List<int>();
        for (var o = 0; o < Output[d]; o++)
        {
            list.Clear();
            var start = o * Stride[d] - PadBegin[d];
            for (var k = 0; k < Kernel[d]; k++)
            {
                var position = start + k * Dilation[d];
                if (position >= 0 && position < Input[d]) list.Add(position);
                if (position >= -PadBegin[d] && position < Input[d] + PadEnd[d]) padded[o]++;
            }
            taps[o] = list.ToArray();
        }
        return (taps, padded);
    }
}
