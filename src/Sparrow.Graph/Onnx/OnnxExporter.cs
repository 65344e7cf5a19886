using Google.Protobuf;
using Sparrow.Graph.Onnx.Proto;
using Sparrow.Tensors;

namespace Sparrow.Graph.Onnx;

/// <summary>Writes the graph IR as an ONNX ModelProto, atomically (temporary file, then rename).</summary>
public static class OnnxExporter
{
    /// <summary>Tensors at least this large go to the external-data file when one is requested.</summary>
    public const int ExternalDataThresholdBytes = 1024;

    /// <param name="externalDataFile">File name (next to <paramref name="path"/>) for large initializers; null keeps all inside.</param>
    public static void Save(Model model, string path, string? externalDataFile = null) =>
        Save(model, path, new OnnxSaveOptions { ExternalDataFile = externalDataFile });

    /// <summary>Writes <paramref name="model"/> as <paramref name="options"/> say (external data, compact form).</summary>
    public static void Save(Model model, string path, OnnxSaveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var externalDataFile = options.ExternalDataFile;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        FileStream? external = null;
        string? externalTemp = null;
        try
        {
            if (externalDataFile is not null)
            {
                externalTemp = Path.Combine(directory, $".{externalDataFile}.{Environment.ProcessId}.tmp");
                external = new FileStream(externalTemp, FileMode.Create, FileAccess.Write);
            }
            var proto = ToProto(model, external is null ? null : (external, externalDataFile!), options);
            external?.Dispose();
            AtomicFile.Write(path, stream => proto.WriteTo(stream));
            if (externalTemp is not null) File.Move(externalTemp, Path.Combine(directory, externalDataFile!), overwrite: true);
        }
        finally
        {
            external?.Dispose();
            if (externalTemp is not null && File.Exists(externalTemp)) File.Delete(externalTemp);
        }
    }

    /// <summary>The model as ONNX ModelProto bytes with every weight inside, with the default <see cref="OnnxSaveOptions"/>.</summary>
    public static byte[] ToBytes(Model model) => ToProto(model, null, OnnxSaveOptions.Default).ToByteArray();

    /// <summary>The model's bytes as <paramref name="options"/> say (its external-data file is ignored: all stays inside).</summary>
    public static byte[] ToBytes(Model model, OnnxSaveOptions options) => ToProto(model, null, options).ToByteArray();

    /// <summary>ONNX IR version 6 introduced sparse initializers.</summary>
    private const long SparseInitializerIrVersion = 6;

    private static ModelProto ToProto(Model model, (FileStream Stream, string Name)? external, OnnxSaveOptions options)
    {
        if (options.Masks is { } masks)
            foreach (var name in masks.Keys)
                if (!model.Graph.Initializers.ContainsKey(name))
                    throw new ArgumentException($"A mask names '{name}', which is not an initializer of the model's graph.");
        var proto = new ModelProto
        {
            IrVersion = model.IrVersion,
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Domain = model.Domain,
            ModelVersion = model.ModelVersion,
            DocString = model.DocString,
            Graph = WriteGraph(model.Graph, external, options),
        };
        if (proto.Graph.SparseInitializer.Count > 0 && proto.IrVersion < SparseInitializerIrVersion)
            proto.IrVersion = SparseInitializerIrVersion;
        foreach (var (domain, version) in model.OpsetImports)
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        foreach (var kv in model.MetadataProps)
            proto.MetadataProps.Add(new StringStringEntryProto { Key = kv.Key, Value = kv.Value });
        foreach (var function in model.Functions)
            proto.Functions.Add(FunctionProto.Parser.ParseFrom(function));
        return proto;
    }

    private static GraphProto WriteGraph(ModelGraph graph, (FileStream Stream, string Name)? external, OnnxSaveOptions? options = null)
    {
        var g = new GraphProto { Name = graph.Name, DocString = graph.DocString };
        foreach (var (name, tensor) in graph.Initializers)
        {
            // Compact form: sparse when that is smaller (or a mask asks for it); subgraphs (options null) stay dense.
            var mask = options?.Masks?.GetValueOrDefault(name);
            if (options is { Compact: true } && SparseInitializers.TryEncode(tensor, name, mask) is { } sparse)
                g.SparseInitializer.Add(sparse);
            else if (mask is not null)
                throw new ArgumentException($"Initializer '{name}' has a mask, which only the compact form stores; set {nameof(OnnxSaveOptions.Compact)}.");
            else
                g.Initializer.Add(WriteTensor(tensor, name, external));
        }
        foreach (var v in graph.Inputs) g.Input.Add(WriteValueInfo(v));
        foreach (var v in graph.Outputs) g.Output.Add(WriteValueInfo(v));
        foreach (var v in graph.ValueInfos) g.ValueInfo.Add(WriteValueInfo(v));
        foreach (var n in graph.Nodes) g.Node.Add(WriteNode(n, external));
        return g;
    }

    private static NodeProto WriteNode(Node node, (FileStream Stream, string Name)? external)
    {
        var n = new NodeProto { Name = node.Name, OpType = node.OpType, Domain = node.Domain, DocString = node.DocString };
        n.Input.AddRange(node.Inputs);
        n.Output.AddRange(node.Outputs);
        foreach (var a in node.Attributes) n.Attribute.Add(WriteAttribute(a, external));
        return n;
    }

    private static AttributeProto WriteAttribute(NodeAttribute a, (FileStream Stream, string Name)? external)
    {
        var p = new AttributeProto { Name = a.Name, Type = (AttributeProto.Types.AttributeType)a.Kind, DocString = a.DocString };
        switch (a.Kind)
        {
            case AttributeKind.Float: p.F = (float)a.Value; break;
            case AttributeKind.Int: p.I = (long)a.Value; break;
            case AttributeKind.String: p.S = ByteString.CopyFrom((byte[])a.Value); break;
            case AttributeKind.Tensor: p.T = WriteTensor((Tensor)a.Value, "", null); break;
            case AttributeKind.Graph: p.G = WriteGraph((ModelGraph)a.Value, external); break;
            case AttributeKind.Floats: p.Floats.AddRange((float[])a.Value); break;
            case AttributeKind.Ints: p.Ints.AddRange((long[])a.Value); break;
            case AttributeKind.Strings: p.Strings.AddRange(((byte[][])a.Value).Select(ByteString.CopyFrom)); break;
            case AttributeKind.Tensors: p.Tensors.AddRange(((Tensor[])a.Value).Select(t => WriteTensor(t, "", null))); break;
            case AttributeKind.Graphs: p.Graphs.AddRange(((ModelGraph[])a.Value).Select(gr => WriteGraph(gr, external))); break;
        }
        return p;
    }

    private static ValueInfoProto WriteValueInfo(ValueInfo v)
    {
        if (v.OtherType is { } other)
            return new ValueInfoProto { Name = v.Name, DocString = v.DocString, Type = TypeProto.Parser.ParseFrom(other) };
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)v.ElementType };
        if (v.Shape is not null)
        {
            tensorType.Shape = new TensorShapeProto();
            foreach (var d in v.Shape)
            {
                var dim = new TensorShapeProto.Types.Dimension();
                if (d.Value.HasValue) dim.DimValue = d.Value.Value;
                else if (d.Symbol is not null) dim.DimParam = d.Symbol;
                tensorType.Shape.Dim.Add(dim);
            }
        }
        return new ValueInfoProto { Name = v.Name, DocString = v.DocString, Type = new TypeProto { TensorType = tensorType } };
    }

    /// <summary>A TensorProto with the data as raw little-endian bytes, inline or in the external file.</summary>
    public static TensorProto WriteTensor(Tensor tensor, string name) => WriteTensor(tensor, name, null);

    private static TensorProto WriteTensor(Tensor tensor, string name, (FileStream Stream, string Name)? external)
    {
        var t = new TensorProto { Name = name, DataType = (int)tensor.ElementType };
        foreach (var d in tensor.Shape) t.Dims.Add(d);
        var bytes = tensor.AsBytes();
        if (external is { } ext && bytes.Length >= ExternalDataThresholdBytes)
        {
            // Align each tensor to 64 bytes so that readers may map it directly.
            var pad = (int)((64 - ext.Stream.Position % 64) % 64);
            ext.Stream.Write(new byte[pad]);
            var offset = ext.Stream.Position;
            ext.Stream.Write(bytes);
            t.DataLocation = TensorProto.Types.DataLocation.External;
            t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = ext.Name });
            t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
            t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString() });
        }
        else
        {
            t.RawData = ByteString.CopyFrom(bytes);
        }
        return t;
    }
}
