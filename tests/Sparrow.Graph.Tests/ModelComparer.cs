using Sparrow.Graph;
using Sparrow.Tensors;

namespace Sparrow.Graph.Tests;

/// <summary>Asserts that two models hold the same nodes, attributes and initializers, bit for bit.</summary>
internal static class ModelComparer
{
    public static void AssertSame(Model expected, Model actual)
    {
        Assert.Equal(expected.IrVersion, actual.IrVersion);
        Assert.Equal(expected.OpsetImports.OrderBy(k => k.Key), actual.OpsetImports.OrderBy(k => k.Key));
        Assert.Equal(expected.MetadataProps, actual.MetadataProps);
        AssertSame(expected.Graph, actual.Graph);
    }

    public static void AssertSame(ModelGraph expected, ModelGraph actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Initializers.Keys, actual.Initializers.Keys);
        foreach (var (name, tensor) in expected.Initializers)
            AssertSame(tensor, actual.Initializers[name], $"initializer '{name}'");
        Assert.Equal(expected.Inputs.Select(Describe), actual.Inputs.Select(Describe));
        Assert.Equal(expected.Outputs.Select(Describe), actual.Outputs.Select(Describe));
        Assert.Equal(expected.ValueInfos.Select(Describe), actual.ValueInfos.Select(Describe));
        Assert.Equal(expected.Nodes.Count, actual.Nodes.Count);
        for (var i = 0; i < expected.Nodes.Count; i++)
        {
            var a = expected.Nodes[i];
            var b = actual.Nodes[i];
            Assert.Equal((a.Name, a.OpType, a.Domain), (b.Name, b.OpType, b.Domain));
            Assert.Equal(a.Inputs, b.Inputs);
            Assert.Equal(a.Outputs, b.Outputs);
            Assert.Equal(a.Attributes.Select(x => (x.Name, x.Kind)), b.Attributes.Select(x => (x.Name, x.Kind)));
            for (var k = 0; k < a.Attributes.Count; k++)
                AssertSameValue(a.Attributes[k].Value, b.Attributes[k].Value, $"node {a.DisplayName} attribute '{a.Attributes[k].Name}'");
        }
    }

    private static string Describe(ValueInfo v) => v.ToString();

    private static void AssertSameValue(object a, object b, string where)
    {
        switch (a)
        {
            case float f: Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits((float)b)); break;
            case long l: Assert.Equal(l, (long)b); break;
            case byte[] s: Assert.Equal(s, (byte[])b); break;
            case float[] fs: Assert.Equal(fs.Select(BitConverter.SingleToInt32Bits), ((float[])b).Select(BitConverter.SingleToInt32Bits)); break;
            case long[] ls: Assert.Equal(ls, (long[])b); break;
            case byte[][] ss: Assert.Equal(ss, (byte[][])b); break;
            case Tensor t: AssertSame(t, (Tensor)b, where); break;
            case Tensor[] ts:
                Assert.Equal(ts.Length, ((Tensor[])b).Length);
                for (var i = 0; i < ts.Length; i++) AssertSame(ts[i], ((Tensor[])b)[i], where);
                break;
            case ModelGraph g: AssertSame(g, (ModelGraph)b); break;
            case ModelGraph[] gs:
                Assert.Equal(gs.Length, ((ModelGraph[])b).Length);
                for (var i = 0; i < gs.Length; i++) AssertSame(gs[i], ((ModelGraph[])b)[i]);
                break;
            default: throw new InvalidOperationException($"{where}: unexpected attribute value {a.GetType()}");
        }
    }

    public static void AssertSame(Tensor expected, Tensor actual, string where)
    {
        Assert.True(expected.ElementType == actual.ElementType, $"{where}: type {actual.ElementType} != {expected.ElementType}");
        Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{where}: shape {actual} != {expected}");
        Assert.True(expected.AsBytes().SequenceEqual(actual.AsBytes()), $"{where}: contents differ");
    }
}
