using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using Sparrow.Graph;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Runtime.Operators;

/// <summary>
/// ONNX Conv for any number of spatial dimensions (1-D, 2-D, 3-D, ...), float32: groups, strides,
/// dilations, explicit pads or auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID), optional bias.
/// Each (image, group) is a GEMM: Y[g] = W[g] (M/g x C/g·k) · columns (C/g·k x output pixels), where the
/// columns matrix is the im2col unrolling of the input (skipped for 1x1 kernels with unit strides and no
/// padding, whose input already is that matrix); the bias is added per output channel as tiles are stored.
/// The output pixels are cut into blocks whose unrolled input stays in L2, and (image, group, block) tasks
/// are spread over the threads. Depthwise 2-D convolutions (one input and one output channel per group) are
/// computed directly from a zero-padded copy of each plane; other groups with fewer than 4 output channels
/// sum the weighted unrolled rows instead of running a GEMM.
/// </summary>
[OnnxOperator("Conv")]
internal sealed class ConvOperator : Operator
{
    private readonly string _autoPad;
    private readonly long[]? _dilations;
    private readonly long[]? _kernelShape;
    private readonly long[]? _pads;
    private readonly long[]? _strides;
    private readonly int _group;

    public ConvOperator(Node node, OperatorContext context) : base(node)
    {
        if (node.Inputs.Count is < 2 or > 3) throw new ArgumentException($"Conv takes 2 or 3 inputs (X, W, B), got {node.Inputs.Count}.");
        _autoPad = node.GetString("auto_pad", "NOTSET");
        if (_autoPad is not ("NOTSET" or "SAME_UPPER" or "SAME_LOWER" or "VALID"))
            throw new NotSupportedException($"auto_pad '{_autoPad}' is not supported (use NOTSET, SAME_UPPER, SAME_LOWER or VALID).");
        _dilations = node.GetInts("dilations");
        _kernelShape = node.GetInts("kernel_shape");
        _pads = node.GetInts("pads");
        _strides = node.GetInts("strides");
        var group = node.GetInt("group", 1);
        if (group < 1 || group > int.MaxValue) throw new ArgumentException($"Conv's group must be at least 1, got {group}.");
        _group = (int)group;
        if (_autoPad != "NOTSET" && _pads is not null && _pads.Any(p => p != 0))
            throw new ArgumentException($"Conv has both auto_pad {_autoPad} and explicit pads; use one.");
    }

    /// <summary>The geometry of one convolution: spatial sizes in and out, kernel, strides, dilations, leading pads.</summary>
    private sealed class Geometry
    {
        public required int[] Input, Output, Kernel, Strides, Dilations, PadsBegin;

        public int InputPixels => TensorShape.Product(Input);
        public int OutputPixels => TensorShape.Product(Output);
        public int KernelSize => TensorShape.Product(Kernel);

        /// <summary>1x1 kernel, unit strides, no padding: the input is already the columns matrix.</summary>
        public bool IsPointwise =>
            Kernel.All(k => k == 1) && Strides.All(s => s == 1) && PadsBegin.All(p => p == 0) && Input.SequenceEqual(Output);
    }

    public override Tensor[] Run(ReadOnlySpan<Tensor?> inputs, RunContext context)
    {
        var x = RequiredFloat(inputs, 0);
        var w = RequiredFloat(inputs, 1);
        var b = Optional(inputs, 2);
        if (x.Rank < 3) throw new InvalidOperationException($"Conv's input must be [N, C, spatial...], got {TensorShape.Format(x.Shape)}.");
        if (w.Rank != x.Rank) throw new InvalidOperationException($"Conv's weight {TensorShape.Format(w.Shape)} must have the input's rank {x.Rank}.");
        int batch = x.Shape[0], channels = x.Shape[1], filters = w.Shape[0];
        if (channels % _group != 0 || filters % _group != 0)
            throw new InvalidOperationException($"Conv's group {_group} must divide the input channels ({channels}) and filters ({filters}).");
        var channelsPerGroup = channels / _group;
        var filtersPerGroup = filters / _group;
        if (w.Shape[1] != channelsPerGroup)
            throw new InvalidOperationException($"Conv's weight {TensorShape.Format(w.Shape)} needs {channelsPerGroup} input channels per group (input {TensorShape.Format(x.Shape)}, group {_group}).");
        ReadOnlySpan<float> bias = default;
        if (b is not null)
        {
            var bf = b as Tensor<float> ?? throw new NotSupportedException($"Conv's bias is {DataTypes.Name(b.ElementType)}; only float32 is supported.");
            if (bf.Length != filters) throw new InvalidOperationException($"Conv's bias has {bf.Length} elements; it needs {filters}.");
            bias = bf.Span;
        }
        var g = ComputeGeometry(x.Shape[2..], w.Shape[2..]);

        var outputShape = new int[x.Rank];
        outputShape[0] = batch;
        outputShape[1] = filters;
        g.Output.CopyTo(outputShape, 2);
        var y = Tensor<float>.Allocate(outputShape, clear: false);
        try
        {
            Compute(x, w, bias, y, g, batch, channelsPerGroup, filtersPerGroup, context.Threads);
            return [y];
        }
        catch
        {
            y.Dispose();
            throw;
        }
    }

    private Geometry ComputeGeometry(ReadOnlySpan<int> input, ReadOnlySpan<int> kernel)
    {
        var rank = input.Length;
        int[] Attribute(long[]? values, string name, int fallback)
        {
            if (values is null) return Enumerable.Repeat(fallback, rank).ToArray();
            if (values.Length != rank) throw new InvalidOperationException($"Conv's {name} has {values.Length} values; the input has {rank} spatial dimensions.");
            return values.Select(v => v is < 1 or > int.MaxValue ? throw new InvalidOperationException($"Conv's {name} must be positive, got {v}.") : (int)v).ToArray();
        }
        var strides = Attribute(_strides, "strides", 1);
        var dilations = Attribute(_dilations, "dilations", 1);
        if (_kernelShape is not null && !_kernelShape.SequenceEqual(kernel.ToArray().Select(k => (long)k)))
            throw new InvalidOperationException($"Conv's kernel_shape [{string.Join(",", _kernelShape)}] does not match the weight's {TensorShape.Format(kernel)}.");
        if (_pads is not null && _pads.Length != 2 * rank)
            throw new InvalidOperationException($"Conv's pads has {_pads.Length} values; it needs {2 * rank} (begin and end per spatial dimension).");

        var output = new int[rank];
        var padsBegin = new int[rank];
        for (var d = 0; d < rank; d++)
        {
            long extent = (long)dilations[d] * (kernel[d] - 1) + 1;
            long size;
            switch (_autoPad)
            {
                case "VALID":
                    size = input[d] >= extent ? (input[d] - extent) / strides[d] + 1 : 0;
                    break;
                case "SAME_UPPER":
                case "SAME_LOWER":
                    size = (input[d] + strides[d] - 1) / strides[d];
                    var total = Math.Max(0, (size - 1) * strides[d] + extent - input[d]);
                    padsBegin[d] = (int)(_autoPad == "SAME_UPPER" ? total / 2 : total - total / 2);
                    break;
                default:
                    long begin = _pads?[d] ?? 0, end = _pads?[d + rank] ?? 0;
                    if (begin < 0 || end < 0) throw new InvalidOperationException("Conv's pads must not be negative.");
                    var padded = input[d] + begin + end;
                    size = padded >= extent ? (padded - extent) / strides[d] + 1 : 0;
                    padsBegin[d] = (int)begin;
                    break;
            }
            if (size > int.MaxValue) throw new InvalidOperationException("Conv's output is too large.");
            output[d] = (int)size;
        }
        return new Geometry
        {
            Input = input.ToArray(), Output = output, Kernel = kernel.ToArray(), Strides = strides, Dilations = dilations, PadsBegin = padsBegin,
        };
    }

    /// <summary>Floats of the im2col block one task unrolls: small enough to stay in L2 while its GEMM runs.</summary>
    private const int ColumnBlockFloats = 64 * 1024;

    /// <summary>Output channels per group below which a weighted sum of the unrolled rows beats the GEMM.</summary>
    private const int SmallFilterCount = 4;

    private void Compute(Tensor<float> x, Tensor<float> w, ReadOnlySpan<float> bias, Tensor<float> y, Geometry g,
        int batch, int channelsPerGroup, int filtersPerGroup, int threads)
    {
        var inputPixels = g.InputPixels;
        var outputPixels = g.OutputPixels;
        var depth = channelsPerGroup * g.KernelSize;
        var items = batch * _group;
        if (items == 0 || filtersPerGroup == 0 || outputPixels == 0) return;
        if (g.Input.Length == 2 && channelsPerGroup == 1 && filtersPerGroup == 1)
        {
            // Depthwise: each channel is its own tiny product, better done directly than by im2col + GEMM.
            var xd = x.Memory;
            var wd = w.Memory;
            var yd = y.Memory;
            var biasValues = bias.IsEmpty ? null : bias.ToArray();
            void RunChannel(int item) => Depthwise2D(xd.Span.Slice(item * inputPixels, inputPixels), wd.Span.Slice(item % _group * g.KernelSize, g.KernelSize),
                biasValues is null ? 0f : biasValues[item % _group], yd.Span.Slice(item * outputPixels, outputPixels), g);
            if (threads > 1 && items >= 2 * threads)
                GemmParallel.For(items, threads, RunChannel);
            else
                for (var i = 0; i < items; i++) RunChannel(i);
            return;
        }
        var pointwise = g.IsPointwise;
        // Output pixels in blocks whose unrolled input stays in L2 (a multiple of 32, the GEMM's panel width).
        var blockPixels = outputPixels;
        if (!pointwise && (long)depth * outputPixels > ColumnBlockFloats)
            blockPixels = Math.Min(outputPixels, Math.Max(32, ColumnBlockFloats / Math.Max(depth, 1) / 32 * 32));
        var blocks = (outputPixels + blockPixels - 1) / blockPixels;
        var tasks = items * blocks;
        var biasArray = bias.IsEmpty ? null : bias.ToArray();
        var xm = x.Memory;
        var wm = w.Memory;
        var ym = y.Memory;
        // Many tasks: one per thread at a time, each GEMM single-threaded. Few: one after another, each threaded.
        var parallelTasks = threads > 1 && tasks >= 2 * threads;
        var gemmThreads = parallelTasks ? 1 : threads;
        void RunTask(int task)
        {
            var item = task / blocks;
            var p0 = task % blocks * blockPixels;
            var pixels = Math.Min(blockPixels, outputPixels - p0);
            var input = xm.Span.Slice(item * channelsPerGroup * inputPixels, channelsPerGroup * inputPixels);
            var output = ym.Span.Slice(item * filtersPerGroup * outputPixels + p0);
            var group = item % _group;
            var weights = wm.Span.Slice(group * filtersPerGroup * depth, filtersPerGroup * depth);
            var rowBias = biasArray is null ? default : biasArray.AsSpan(group * filtersPerGroup, filtersPerGroup);
            if (pointwise)
            {
                Sgemm.Multiply(filtersPerGroup, pixels, depth, weights, depth, false, input[p0..], inputPixels, false, output, outputPixels,
                    rowBias: rowBias, maxThreads: gemmThreads);
                return;
            }
            var columns = ArrayPool<float>.Shared.Rent(depth * pixels);
            try
            {
                var block = columns.AsSpan(0, depth * pixels);
                Im2Col(input, block, channelsPerGroup, g, p0, pixels);
                if (filtersPerGroup < SmallFilterCount)
                    WeightedRows(weights, block, depth, pixels, rowBias, output, outputPixels, filtersPerGroup);
                else
                    Sgemm.Multiply(filtersPerGroup, pixels, depth, weights, depth, false, block, pixels, false, output, outputPixels,
                        rowBias: rowBias, maxThreads: gemmThreads);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(columns);
            }
        }
        if (parallelTasks)
            GemmParallel.For(tasks, threads, RunTask);
        else
            for (var t = 0; t < tasks; t++) RunTask(t);
    }

    /// <summary>
    /// One channel of a depthwise 2-D convolution, computed directly: the input plane is copied once into a
    /// zero-padded plane, so that every tap of every output reads inside it, and then each output vector is
    /// the sum over the taps of weight x input vector (contiguous loads for unit horizontal stride).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    private static unsafe void Depthwise2D(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, float bias, Span<float> output, Geometry g)
    {
        int height = g.Input[0], width = g.Input[1], outHeight = g.Output[0], outWidth = g.Output[1];
        int kernelHeight = g.Kernel[0], kernelWidth = g.Kernel[1];
        int strideH = g.Strides[0], strideW = g.Strides[1], dilationH = g.Dilations[0], dilationW = g.Dilations[1];
        int padH = g.PadsBegin[0], padW = g.PadsBegin[1];
        // The padded plane spans every row and column a tap can read: row r of it is input row r - padH. Rows
        // carry one vector of extra zeros, so the last, partial output vector of a row can be loaded whole.
        var vector = Vector<float>.Count;
        var paddedHeight = (outHeight - 1) * strideH + (kernelHeight - 1) * dilationH + 1;
        var paddedWidth = (outWidth - 1) * strideW + (kernelWidth - 1) * dilationW + 1;
        var rowStride = paddedWidth + vector;
        var padded = ArrayPool<float>.Shared.Rent(paddedHeight * rowStride);
        try
        {
            var plane = padded.AsSpan(0, paddedHeight * rowStride);
            plane.Clear();
            var c0 = Math.Max(0, padW);
            var c1 = Math.Min(paddedWidth, width + padW);
            for (var r = 0; r < paddedHeight; r++)
            {
                var ih = r - padH;
                // Columns c of the padded row hold input column c - padW, where that exists.
                if ((uint)ih < (uint)height && c1 > c0)
                    input.Slice(ih * width + c0 - padW, c1 - c0).CopyTo(plane.Slice(r * rowStride + c0, c1 - c0));
            }
            fixed (float* p = plane)
            fixed (float* wt = weights)
            fixed (float* o = output)
            {
                var last = stackalloc float[vector];
                for (var oh = 0; oh < outHeight; oh++)
                {
                    var outRow = o + (nint)oh * outWidth;
                    var top = p + (nint)oh * strideH * rowStride;
                    if (strideW == 1)
                    {
                        for (var ow = 0; ow < outWidth; ow += vector)
                        {
                            var sum = new Vector<float>(bias);
                            for (var kh = 0; kh < kernelHeight; kh++)
                            {
                                var row = top + (nint)kh * dilationH * rowStride + ow;
                                var tap = wt + kh * kernelWidth;
                                for (var kw = 0; kw < kernelWidth; kw++)
                                    sum += new Vector<float>(tap[kw]) * Vector.Load(row + kw * dilationW);
                            }
                            if (ow + vector <= outWidth)
                            {
                                sum.Store(outRow + ow);
                            }
                            else
                            {
                                sum.Store(last);
                                for (var i = 0; ow + i < outWidth; i++) outRow[ow + i] = last[i];
                            }
                        }
                        continue;
                    }
                    for (var ow = 0; ow < outWidth; ow++)
                    {
                        var sum = bias;
                        var column = top + (nint)ow * strideW;
                        for (var kh = 0; kh < kernelHeight; kh++)
                        {
                            var row = column + (nint)kh * dilationH * rowStride;
                            var tap = wt + kh * kernelWidth;
                            for (var kw = 0; kw < kernelWidth; kw++) sum += tap[kw] * row[kw * dilationW];
                        }
                        outRow[ow] = sum;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(padded);
        }
    }

    /// <summary>
    /// For few output channels (depthwise convolutions): each output row is the weighted sum of the unrolled
    /// rows, one pass over them per channel, instead of a GEMM whose tiles would be mostly empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightedRows(ReadOnlySpan<float> weights, ReadOnlySpan<float> columns, int depth, int pixels,
        ReadOnlySpan<float> bias, Span<float> output, int outputStride, int filters)
    {
        for (var f = 0; f < filters; f++)
        {
            var row = output.Slice(f * outputStride, pixels);
            row.Fill(bias.IsEmpty ? 0f : bias[f]);
            for (var r = 0; r < depth; r++)
                TensorPrimitives.MultiplyAdd(columns.Slice(r * pixels, pixels), weights[f * depth + r], row, row);
        }
    }

    /// <summary>
    /// Unrolls output pixels [p0, p0 + pixels) of one group's input: row (c, kernel tap) of the result holds,
    /// for each of those pixels, the input value that tap reads (0 in the padding). Output rows along the
    /// innermost spatial dimension are short (28 pixels in a small CNN), so each run is copied by hand
    /// rather than through a memmove call. Optimised at once rather than tiered: called a few times per
    /// run, it would otherwise stay in unoptimised code for many runs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Im2Col(ReadOnlySpan<float> input, Span<float> columns, int channels, Geometry g, int p0, int pixels)
    {
        if (columns.Length < (long)channels * g.KernelSize * pixels || input.Length < (long)channels * g.InputPixels)
            throw new ArgumentException("im2col buffers are too small.");
        if (g.Input.Length == 2)
        {
            Im2Col2D(input, columns, channels, g, p0, pixels);
            return;
        }
        var rank = g.Input.Length;
        var inputPixels = g.InputPixels;
        var kernelSize = g.KernelSize;
        var last = rank - 1;
        int inLast = g.Input[last], outLast = g.Output[last], strideLast = g.Strides[last];
        var inputStrides = TensorShape.Strides(g.Input);
        Span<int> tap = stackalloc int[rank];
        Span<int> start = stackalloc int[rank];
        Span<int> position = stackalloc int[rank];
        // The multi-index of the first pixel of the block.
        var rest = p0;
        for (var d = last; d >= 0; d--)
        {
            start[d] = rest % g.Output[d];
            rest /= g.Output[d];
        }
        fixed (float* inputBase = input)
        fixed (float* columnsBase = columns)
        {
            var row = 0;
            for (var c = 0; c < channels; c++)
            {
                var plane = inputBase + (nint)c * inputPixels;
                for (var t = 0; t < kernelSize; t++, row++)
                {
                    rest = t;
                    for (var d = last; d >= 0; d--)
                    {
                        tap[d] = rest % g.Kernel[d];
                        rest /= g.Kernel[d];
                    }
                    var destination = columnsBase + (nint)row * pixels;
                    // Along the innermost dimension output o reads input o * stride + shift; outputs [first, end)
                    // read inside the row.
                    var shift = tap[last] * g.Dilations[last] - g.PadsBegin[last];
                    var first = shift >= 0 ? 0 : (-shift + strideLast - 1) / strideLast;
                    var end = inLast - 1 - shift < 0 ? 0 : Math.Min(outLast, (inLast - 1 - shift) / strideLast + 1);
                    if (first > end) first = end;
                    start.CopyTo(position);
                    var written = 0;
                    while (written < pixels)
                    {
                        // One run: from position[last] to the end of its innermost row or of the block.
                        var o0 = position[last];
                        var o1 = Math.Min(outLast, o0 + pixels - written);
                        var run = destination + written;
                        var offset = 0;
                        var inside = true;
                        for (var d = 0; d < last; d++)
                        {
                            var index = position[d] * g.Strides[d] + tap[d] * g.Dilations[d] - g.PadsBegin[d];
                            if ((uint)index >= (uint)g.Input[d]) { inside = false; break; }
                            offset += index * inputStrides[d];
                        }
                        var lo = Math.Clamp(first, o0, o1);
                        var hi = Math.Clamp(end, lo, o1);
                        if (!inside || lo == hi)
                        {
                            Zero(run, o1 - o0);
                        }
                        else
                        {
                            Zero(run, lo - o0);
                            Zero(run + (hi - o0), o1 - hi);
                            var source = plane + offset + (nint)lo * strideLast + shift;
                            var segment = run + (lo - o0);
                            if (strideLast == 1)
                                Copy(source, segment, hi - lo);
                            else
                                for (var i = 0; i < hi - lo; i++) segment[i] = source[(nint)i * strideLast];
                        }
                        written += o1 - o0;
                        // The next run starts at the beginning of the next innermost row.
                        position[last] = 0;
                        for (var d = last - 1; d >= 0; d--)
                        {
                            if (++position[d] < g.Output[d]) break;
                            position[d] = 0;
                        }
                    }
                }
            }
        }
    }

    /// <summary>The same for two spatial dimensions, the common case, with everything a run needs in locals.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Im2Col2D(ReadOnlySpan<float> input, Span<float> columns, int channels, Geometry g, int p0, int pixels)
    {
        int height = g.Input[0], width = g.Input[1], outWidth = g.Output[1];
        int kernelHeight = g.Kernel[0], kernelWidth = g.Kernel[1];
        int strideH = g.Strides[0], strideW = g.Strides[1], dilationH = g.Dilations[0], dilationW = g.Dilations[1];
        int padH = g.PadsBegin[0], padW = g.PadsBegin[1];
        int firstRow = p0 / outWidth, firstColumn = p0 % outWidth;
        fixed (float* inputBase = input)
        fixed (float* columnsBase = columns)
        {
            var destination = columnsBase;
            for (var c = 0; c < channels; c++)
            {
                var plane = inputBase + (nint)c * height * width;
                for (var kh = 0; kh < kernelHeight; kh++)
                for (var kw = 0; kw < kernelWidth; kw++, destination += pixels)
                {
                    var shift = kw * dilationW - padW;
                    var first = shift >= 0 ? 0 : (-shift + strideW - 1) / strideW;
                    var end = width - 1 - shift < 0 ? 0 : Math.Min(outWidth, (width - 1 - shift) / strideW + 1);
                    if (first > end) first = end;
                    var written = 0;
                    var oh = firstRow;
                    var o0 = firstColumn;
                    while (written < pixels)
                    {
                        var o1 = Math.Min(outWidth, o0 + pixels - written);
                        var run = destination + written;
                        var ih = oh * strideH + kh * dilationH - padH;
                        var lo = Math.Clamp(first, o0, o1);
                        var hi = Math.Clamp(end, lo, o1);
                        if ((uint)ih >= (uint)height || lo == hi)
                        {
                            Zero(run, o1 - o0);
                        }
                        else
                        {
                            Zero(run, lo - o0);
                            Zero(run + (hi - o0), o1 - hi);
                            var source = plane + (nint)ih * width + (nint)lo * strideW + shift;
                            var segment = run + (lo - o0);
                            if (strideW == 1)
                                Copy(source, segment, hi - lo);
                            else
                                for (var i = 0; i < hi - lo; i++) segment[i] = source[(nint)i * strideW];
                        }
                        written += o1 - o0;
                        oh++;
                        o0 = 0;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Copy(float* source, float* destination, int count)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= count; i += 16) Vector512.Store(Vector512.Load(source + i), destination + i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(source + i), destination + i);
        for (; i < count; i++) destination[i] = source[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Zero(float* destination, int count)
    {
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= count; i += 16) Vector512.Store(Vector512<float>.Zero, destination + i);
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= count; i += 8) Vector256.Store(Vector256<float>.Zero, destination + i);
        for (; i < count; i++) destination[i] = 0f;
    }
}
