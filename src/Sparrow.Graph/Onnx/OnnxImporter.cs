using Google.Protobuf;
using Sparrow.Graph.Onnx.Proto;
using Sparrow.Tensors;

namespace Sparrow.Graph.Onnx;

/// <summary>Reads ONNX ModelProto files (and their external-data files) into the graph IR.</summary>
public static class OnnxImporter
{
    /// <summary>
    /// The oldest ai.onnx opset the operators are written for, and the opset a model that imports none is given. The
    /// importer does not refuse other opsets: a model loads whatever it imports.
    /// </summary>
    public const long MinOpset = 7;
    /// <summary>The newest ai.onnx opset the operators are written for (see <see cref="MinOpset"/>).</summary>
    public const long MaxOpset = 23;

    /// <summary>Reads the model at <paramref name="path"/>; external data files are looked up next to it.</summary>
    /// <exception cref="ModelException">The file is missing, unreadable or malformed, or its external data cannot be read safely; the message names the file.</exception>
    public static Model Load(string path, OnnxLoadOptions? options = null)
    {
        if (!File.Exists(path)) throw new ModelException($"{path}: file not found.");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelException($"{path}: cannot read the file: {e.Message}", e);
        }
        return Load(bytes, Path.GetDirectoryName(Path.GetFullPath(path)), path, options);
    }

    /// <summary>Reads a model from its ModelProto <paramref name="bytes"/>; external data is looked up in <paramref name="baseDirectory"/> (none when null) and messages name <paramref name="sourceName"/>.</summary>
    /// <exception cref="ModelException">The bytes are malformed, or their external data cannot be read safely.</exception>
    public static Model Load(ReadOnlySpan<byte> bytes, string? baseDirectory = null, string sourceName = "model", OnnxLoadOptions? options = null) =>
        Load(bytes.ToArray(), baseDirectory, sourceName, options);

    /// <param name="baseDirectory">Where external-data files are looked up; null forbids external data.</param>
    /// <param name="sourceName">How messages name the model.</param>
    public static Model Load(byte[] bytes, string? baseDirectory = null, string sourceName = "model", OnnxLoadOptions? options = null)
    {
        options ??= OnnxLoadOptions.Default;
        return Load(bytes, sourceName, options, new Reader(baseDirectory, sourceName, options));
    }

    private static Model Load(byte[] bytes, string sourceName, OnnxLoadOptions options, Reader reader)
    {
        reader.SourceBytes = bytes.Length;
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(LimitDepth(bytes, options));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelException($"{sourceName}: not a valid ONNX model (protobuf error: {e.Message})", e);
        }
        if (proto.Graph is null)
            throw new ModelException($"{sourceName}: the file has no graph; is it an ONNX model?");
        var model = new Model(reader.ReadGraph(proto.Graph, depth: 0))
        {
            IrVersion = proto.IrVersion,
            ProducerName = proto.ProducerName,
            ProducerVersion = proto.ProducerVersion,
            Domain = proto.Domain,
            ModelVersion = proto.ModelVersion,
            DocString = proto.DocString,
        };
        model.OpsetImports.Clear();
        foreach (var op in proto.OpsetImport)
            model.OpsetImports[NormalizeDomain(op.Domain)] = op.Version;
        if (!model.OpsetImports.ContainsKey("")) model.OpsetImports[""] = proto.IrVersion <= 3 ? 1 : MinOpset;
        foreach (var m in proto.MetadataProps) model.MetadataProps.Add(new(m.Key, m.Value));
        foreach (var f in proto.Functions) model.Functions.Add(f.ToByteArray());
        return model;
    }

    /// <summary>
    /// The masks a compact file carries: for each sparse initializer of the main graph, one flag per element, true
    /// where the file stores a value (zeros included). Dense initializers are not listed (their mask is their non-zeros).
    /// </summary>
    public static IReadOnlyDictionary<string, bool[]> LoadStoredMasks(string path, OnnxLoadOptions? options = null)
    {
        if (!File.Exists(path)) throw new ModelException($"{path}: file not found.");
        return LoadStoredMasks(File.ReadAllBytes(path), Path.GetDirectoryName(Path.GetFullPath(path)), path, options);
    }

    /// <inheritdoc cref="LoadStoredMasks(string, OnnxLoadOptions?)"/>
    public static IReadOnlyDictionary<string, bool[]> LoadStoredMasks(byte[] bytes, string? baseDirectory = null, string sourceName = "model", OnnxLoadOptions? options = null)
    {
        options ??= OnnxLoadOptions.Default;
        var reader = new Reader(baseDirectory, sourceName, options) { StoredMasks = [] };
        var model = Load(bytes, sourceName, options, reader);
        var masks = new Dictionary<string, bool[]>();
        foreach (var (name, positions) in reader.StoredMasks)
        {
            var mask = new bool[model.Graph.Initializers[name].Length];
            foreach (var p in positions) mask[p] = true;
            masks[name] = mask;
        }
        return masks;
    }

    /// <summary>Parses with a bounded recursion depth so that deeply nested input cannot blow the stack.</summary>
    private static CodedInputStream LimitDepth(byte[] bytes, OnnxLoadOptions options) =>
        CodedInputStream.CreateWithLimits(new MemoryStream(bytes, writable: false), int.MaxValue, options.MaxNestingDepth);

    /// <summary>Reads one serialized TensorProto (a .pb file of the ONNX test data, for example).</summary>
    public static Tensor LoadTensor(string path, OnnxLoadOptions? options = null)
    {
        TensorProto proto;
        try
        {
            using var stream = File.OpenRead(path);
            proto = TensorProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelException($"{path}: not a valid TensorProto ({e.Message})", e);
        }
        return new Reader(Path.GetDirectoryName(Path.GetFullPath(path)), path, options ?? OnnxLoadOptions.Default)
            .ReadTensor(proto, $"tensor '{proto.Name}'");
    }

    internal static string NormalizeDomain(string domain) => domain == "ai.onnx" ? "" : domain;

    private sealed class Reader(string? baseDirectory, string source, OnnxLoadOptions options)
    {
        private long _totalBytes;
        private long _sparseDenseBytes;

        /// <summary>Length of the model file, which bounds how far sparse initializers may expand.</summary>
        public long SourceBytes { get; set; }

        /// <summary>When set, collects the stored positions of each sparse initializer of the main graph.</summary>
        public Dictionary<string, int[]>? StoredMasks { get; set; }

        private (string Name, Tensor Dense, int[] Positions) ReadSparseTensor(SparseTensorProto sparse)
        {
            var name = sparse.Values?.Name ?? "";
            var where = $"sparse initializer '{name}'";
            if (sparse.Values is null || sparse.Indices is null)
                throw new ModelException($"{source}: {where} lacks its {(sparse.Values is null ? "values" : "indices")}.");
            if (name.Length == 0)
                throw new ModelException($"{source}: a sparse initializer has no name (its values tensor names it).");
            var shape = new int[sparse.Dims.Count];
            long count = 1;
            for (var i = 0; i < shape.Length; i++)
            {
                var d = sparse.Dims[i];
                if (d < 0) throw new ModelException($"{source}: {where} has negative dimension {d}.");
                count *= d;
                if (d > int.MaxValue || count > options.MaxTensorElements)
                    throw new ModelException($"{source}: {where} declares {string.Join("x", sparse.Dims)} elements, more than the limit of {options.MaxTensorElements}.");
                shape[i] = (int)d;
            }
            var values = ReadTensor(sparse.Values, where + " (values)");
            var type = values.ElementType;
            var denseBytes = count * DataTypes.SizeOf(type);
            // The values were counted when read; what the dense form adds is the rest.
            _totalBytes += Math.Max(0, denseBytes - values.Length * (long)DataTypes.SizeOf(type));
            _sparseDenseBytes += denseBytes;
            var allowance = Math.Max(options.MinSparseExpansionBytes, options.MaxSparseExpansion * SourceBytes);
            if (_sparseDenseBytes > allowance)
                throw new ModelException($"{source}: sparse initializers expand to {_sparseDenseBytes} bytes when dense (at {where}), more than {options.MaxSparseExpansion} times the file's {SourceBytes} bytes; raise OnnxLoadOptions.MaxSparseExpansion if the model is genuine.");
            if (_totalBytes > options.MaxTotalWeightBytes)
                throw new ModelException($"{source}: weights exceed the limit of {options.MaxTotalWeightBytes} bytes (at {where}).");
            if (denseBytes > Array.MaxLength)
                throw new ModelException($"{source}: {where} needs {denseBytes} bytes dense, more than one array holds.");
            if (values.Rank != 1)
                throw new ModelException($"{source}: {where} has values of shape {TensorShape.Format(values.Shape)}; ONNX requires a 1-D [NNZ] tensor.");
            var indices = ReadTensor(sparse.Indices, where + " (indices)");
            var positions = SparseInitializers.LinearPositions(indices, shape, count, values.Length,
                message => new ModelException($"{source}: {where}: {message}"));
            return (name, SparseInitializers.Expand(values, shape, count, positions), positions);
        }

        public ModelGraph ReadGraph(GraphProto g, int depth)
        {
            if (depth > options.MaxNestingDepth)
                throw new ModelException($"{source}: subgraphs nested deeper than {options.MaxNestingDepth} levels.");
            if (g.Node.Count > options.MaxNodes)
                throw new ModelException($"{source}: graph '{g.Name}' has {g.Node.Count} nodes, more than the limit of {options.MaxNodes}.");
            var graph = new ModelGraph { Name = g.Name, DocString = g.DocString };
            foreach (var t in g.Initializer)
            {
                var name = t.Name;
                if (graph.Initializers.ContainsKey(name))
                    throw new ModelException($"{source}: initializer '{name}' is declared twice.");
                graph.Initializers[name] = ReadTensor(t, $"initializer '{name}'");
            }
            foreach (var sparse in g.SparseInitializer)
            {
                // The compact form (SparseInitializers): restored as an ordinary dense initializer.
                var (name, tensor, positions) = ReadSparseTensor(sparse);
                if (graph.Initializers.ContainsKey(name))
                    throw new ModelException($"{source}: initializer '{name}' is declared twice.");
                graph.Initializers[name] = tensor;
                if (depth == 0) StoredMasks?.Add(name, positions);
            }
            foreach (var v in g.Input) graph.Inputs.Add(ReadValueInfo(v));
            foreach (var v in g.Output) graph.Outputs.Add(ReadValueInfo(v));
            foreach (var v in g.ValueInfo) graph.ValueInfos.Add(ReadValueInfo(v));
            foreach (var n in g.Node) graph.Nodes.Add(ReadNode(n, depth));
            return graph;
        }

        private Node ReadNode(NodeProto n, int depth)
        {
            var node = new Node(n.OpType, n.Input, n.Output, n.Name, NormalizeDomain(n.Domain)) { DocString = n.DocString };
            foreach (var a in n.Attribute)
                node.Attributes.Add(ReadAttribute(a, node, depth));
            return node;
        }

        private NodeAttribute ReadAttribute(AttributeProto a, Node node, int depth)
        {
            var where = $"node {node.DisplayName}, attribute '{a.Name}'";
            var kind = a.Type == AttributeProto.Types.AttributeType.Undefined ? GuessKind(a) : a.Type;
            NodeAttribute attribute = kind switch
            {
                AttributeProto.Types.AttributeType.Float => NodeAttribute.Float(a.Name, a.F),
                AttributeProto.Types.AttributeType.Int => NodeAttribute.Int(a.Name, a.I),
                AttributeProto.Types.AttributeType.String => NodeAttribute.Bytes(a.Name, a.S.ToByteArray()),
                AttributeProto.Types.AttributeType.Tensor => NodeAttribute.TensorValue(a.Name, ReadTensor(a.T ?? new TensorProto(), where)),
                AttributeProto.Types.AttributeType.Graph => NodeAttribute.GraphValue(a.Name, ReadGraph(a.G ?? new GraphProto(), depth + 1)),
                AttributeProto.Types.AttributeType.Floats => NodeAttribute.Floats(a.Name, a.Floats.ToArray()),
                AttributeProto.Types.AttributeType.Ints => NodeAttribute.Ints(a.Name, a.Ints.ToArray()),
                AttributeProto.Types.AttributeType.Strings => NodeAttribute.Strings(a.Name, a.Strings.Select(s => s.ToByteArray()).ToArray()),
                AttributeProto.Types.AttributeType.Tensors => NodeAttribute.Tensors(a.Name, a.Tensors.Select(t => ReadTensor(t, where)).ToArray()),
                AttributeProto.Types.AttributeType.Graphs => NodeAttribute.Graphs(a.Name, a.Graphs.Select(gr => ReadGraph(gr, depth + 1)).ToArray()),
                _ => throw new ModelException($"{source}: {where} has type {a.Type}, which Sparrow does not support."),
            };
            attribute.DocString = a.DocString;
            return attribute;
        }

        private static AttributeProto.Types.AttributeType GuessKind(AttributeProto a)
        {
            // IR version 1 models may omit the type; infer it from the one field that is set.
            if (a.Ints.Count > 0) return AttributeProto.Types.AttributeType.Ints;
            if (a.Floats.Count > 0) return AttributeProto.Types.AttributeType.Floats;
            if (a.Strings.Count > 0) return AttributeProto.Types.AttributeType.Strings;
            if (a.T is not null) return AttributeProto.Types.AttributeType.Tensor;
            if (a.G is not null) return AttributeProto.Types.AttributeType.Graph;
            if (!a.S.IsEmpty) return AttributeProto.Types.AttributeType.String;
            if (a.F != 0) return AttributeProto.Types.AttributeType.Float;
            return AttributeProto.Types.AttributeType.Int;
        }

        private static ValueInfo ReadValueInfo(ValueInfoProto v)
        {
            var tt = v.Type?.TensorType;
            IReadOnlyList<Dimension>? shape = null;
            if (tt?.Shape is not null)
                shape = tt.Shape.Dim.Select(d => d.ValueCase switch
                {
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => Dimension.Fixed(d.DimValue),
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => Dimension.Named(d.DimParam),
                    _ => Dimension.Unknown,
                }).ToArray();
            // A sequence, map or optional is kept whole, to be written back as it was.
            var other = v.Type is { } type && type.ValueCase is not (TypeProto.ValueOneofCase.TensorType or TypeProto.ValueOneofCase.None) ? type.ToByteArray() : null;
            return new ValueInfo(v.Name, (DataType)(tt?.ElemType ?? 0), shape) { DocString = v.DocString, OtherType = other };
        }

        public Tensor ReadTensor(TensorProto t, string where)
        {
            var type = (DataType)t.DataType;
            if (!DataTypes.IsSupported(type))
                throw new ModelException($"{source}: {where} has element type {DescribeType(t.DataType)}, which Sparrow does not support.");
            var shape = new int[t.Dims.Count];
            long count = 1;
            for (var i = 0; i < shape.Length; i++)
            {
                var d = t.Dims[i];
                if (d < 0) throw new ModelException($"{source}: {where} has negative dimension {d}.");
                count *= d;
                if (d > int.MaxValue || count > options.MaxTensorElements)
                    throw new ModelException($"{source}: {where} declares {string.Join("x", t.Dims)} elements, more than the limit of {options.MaxTensorElements}.");
                shape[i] = (int)d;
            }
            var size = DataTypes.SizeOf(type);
            var bytes = count * size;
            _totalBytes += bytes;
            if (_totalBytes > options.MaxTotalWeightBytes)
                throw new ModelException($"{source}: weights exceed the limit of {options.MaxTotalWeightBytes} bytes (at {where}).");

            if (t.DataLocation == TensorProto.Types.DataLocation.External)
                return Tensor.FromBytes(type, shape, ReadExternal(t, bytes, where));
            if (!t.RawData.IsEmpty || count == 0 && NoTypedData(t))
            {
                if (t.RawData.Length != bytes)
                    throw new ModelException($"{source}: {where} has {t.RawData.Length} bytes of data, but shape [{string.Join(",", shape)}] of {DataTypes.Name(type)} needs {bytes}.");
                return Tensor.FromBytes(type, shape, t.RawData.Span);
            }
            return ReadTypedData(t, type, shape, count, where);
        }

        private static bool NoTypedData(TensorProto t) =>
            t.FloatData.Count == 0 && t.Int32Data.Count == 0 && t.Int64Data.Count == 0 && t.DoubleData.Count == 0 && t.Uint64Data.Count == 0;

        private Tensor ReadTypedData(TensorProto t, DataType type, int[] shape, long count, string where)
        {
            int Check(int have)
            {
                if (have != count)
                    throw new ModelException($"{source}: {where} has {have} values, but shape [{string.Join(",", shape)}] needs {count}.");
                return have;
            }
            switch (type)
            {
                case DataType.Float32:
                    Check(t.FloatData.Count);
                    return Tensor<float>.Wrap(t.FloatData.ToArray(), shape);
                case DataType.Int64:
                    Check(t.Int64Data.Count);
                    return Tensor<long>.Wrap(t.Int64Data.ToArray(), shape);
                case DataType.Float64:
                    Check(t.DoubleData.Count);
                    return Tensor<double>.Wrap(t.DoubleData.ToArray(), shape);
                case DataType.UInt64:
                    Check(t.Uint64Data.Count);
                    return Tensor<ulong>.Wrap(t.Uint64Data.ToArray(), shape);
                case DataType.UInt32:
                    Check(t.Uint64Data.Count);
                    return Tensor<uint>.Wrap(t.Uint64Data.Select(v => (uint)v).ToArray(), shape);
                case DataType.Int32:
                    Check(t.Int32Data.Count);
                    return Tensor<int>.Wrap(t.Int32Data.ToArray(), shape);
                case DataType.Int16:
                    Check(t.Int32Data.Count);
                    return Tensor<short>.Wrap(t.Int32Data.Select(v => (short)v).ToArray(), shape);
                case DataType.UInt16:
                    Check(t.Int32Data.Count);
                    return Tensor<ushort>.Wrap(t.Int32Data.Select(v => (ushort)v).ToArray(), shape);
                case DataType.Int8:
                    Check(t.Int32Data.Count);
                    return Tensor<sbyte>.Wrap(t.Int32Data.Select(v => (sbyte)v).ToArray(), shape);
                case DataType.UInt8:
                    Check(t.Int32Data.Count);
                    return Tensor<byte>.Wrap(t.Int32Data.Select(v => (byte)v).ToArray(), shape);
                case DataType.Bool:
                    Check(t.Int32Data.Count);
                    return Tensor<bool>.Wrap(t.Int32Data.Select(v => v != 0).ToArray(), shape);
                case DataType.Float16:
                    // float16 values travel as their bit patterns in int32_data.
                    Check(t.Int32Data.Count);
                    return Tensor<Half>.Wrap(t.Int32Data.Select(v => BitConverter.UInt16BitsToHalf((ushort)v)).ToArray(), shape);
                default:
                    throw new ModelException($"{source}: {where} has element type {DataTypes.Name(type)}, which Sparrow does not support.");
            }
        }

        private byte[] ReadExternal(TensorProto t, long bytes, string where)
        {
            if (baseDirectory is null)
                throw new ModelException($"{source}: {where} keeps its data in an external file, but the model was not loaded from a file.");
            string? location = null;
            long offset = 0, length = -1;
            foreach (var kv in t.ExternalData)
            {
                switch (kv.Key)
                {
                    case "location": location = kv.Value; break;
                    case "offset": offset = ParseLong(kv.Value, where); break;
                    case "length": length = ParseLong(kv.Value, where); break;
                }
            }
            if (string.IsNullOrEmpty(location))
                throw new ModelException($"{source}: {where} is external but names no location.");
            string full, root;
            try
            {
                full = Path.GetFullPath(Path.Combine(baseDirectory, location));
                root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseDirectory)) + Path.DirectorySeparatorChar;
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
            {
                throw new ModelException($"{source}: {where} names an impossible external-data location ('{location}'): {e.Message}", e);
            }
            if (!full.StartsWith(root, StringComparison.Ordinal))
                throw new ModelException($"{source}: {where} points outside the model's folder ('{location}').");
            if (!File.Exists(full))
                throw new ModelException($"{source}: {where} needs external data file '{location}', which does not exist next to the model.");
            // Links are followed: the Hugging Face cache keeps external data as links from snapshots/ into blobs/ (ONNX
            // Runtime refused them in 1.24 and had to allow them again). The location itself must stay inside the folder.
            if (length >= 0 && length != bytes)
                throw new ModelException($"{source}: {where} declares {length} external bytes but its shape needs {bytes}.");
            if (bytes > Array.MaxLength)
                throw new ModelException($"{source}: {where} holds {bytes} bytes; a tensor of more than {Array.MaxLength} bytes cannot be loaded.");
            try
            {
                using var stream = File.OpenRead(full);
                if (offset < 0 || bytes > stream.Length - offset)
                    throw new ModelException($"{source}: {where} reads {bytes} bytes from offset {offset} of '{location}', which has only {stream.Length}.");
                var data = new byte[bytes];
                stream.Position = offset;
                stream.ReadExactly(data);
                return data;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new ModelException($"{source}: {where} could not read its external data '{location}': {e.Message}", e);
            }
        }


        private long ParseLong(string s, string where) =>
            long.TryParse(s, out var v) ? v : throw new ModelException($"{source}: {where} has a non-numeric external-data field '{s}'.");

        private static string DescribeType(int code) =>
            Enum.IsDefined(typeof(TensorProto.Types.DataType), code) ? ((TensorProto.Types.DataType)code).ToString().ToLowerInvariant() : $"code {code}";
    }
}
