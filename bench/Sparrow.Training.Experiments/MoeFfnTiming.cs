using System.Globalization;
using Sparrow.Benchmarks;
using Sparrow.Data.Evaluation;
using Sparrow.Data.Models;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning.Calibration;
using Sparrow.Pruning.Structured;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Training.Experiments;

/// <summary>
/// FFN latency of MoEfied MiniLM against dense: each layer's feed-forward block run alone (dense: MatMul, bias,
/// GELU, MatMul, bias as the session fuses them; MoE: the ai.sparrow:MoE node and the down bias) on that layer's
/// real input for a batch of held-out sentences, sessions alternating, thread CPU time, medians over rounds.
/// The MoE files come from <c>sparrow moefy</c>; their k is the one each was written with.
/// </summary>
internal static class MoeFfnTiming
{
    public static int Run(string[] args)
    {
        int rounds = 15, sentences = 8, threads = 1;
        var files = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--rounds": rounds = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--sentences": sentences = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                default: files.Add(args[i]); break;
            }
        }
        var dense = OnnxImporter.Load(DefaultModel.ReadOnnx());
        var structure = EncoderStructure.Find(dense.Graph);
        Tensor<float>[] inputs = [];
        // A batch's tensors live until the enumeration moves on: capture (copies) inside the loop.
        foreach (var batch in CalibrationSentences.Batches(HeldOutSentences.Sample.Take(sentences), sentences)) inputs = CaptureFfnInputs(dense, structure, batch);
        var tokens = inputs[0].Shape[0] * inputs[0].Shape[1];
        Console.WriteLine($"# FFN latency, MiniLM: {sentences} held-out sentences ({tokens} token positions, padding included), {threads} thread(s), {rounds} alternating rounds, " +
            $"{(ThreadCpuClock.IsAvailable ? "thread CPU time" : "wall time")}, {Sgemm.InstructionSet}, {Environment.ProcessorCount} cores (shared machine)");

        var variants = new List<(string Name, Model[] Blocks)> { ("dense", structure.Layers.Select(l => DenseBlock(dense.Graph, l.FeedForward)).ToArray()) };
        foreach (var file in files)
        {
            var moe = OnnxImporter.Load(file);
            var nodes = moe.Graph.Nodes.Where(n => n.OpType == "MoE").ToArray();
            variants.Add(($"{Path.GetFileNameWithoutExtension(file)} (k = {KPerLayer(nodes)})",
                nodes.Select(n => MoeBlock(moe.Graph, n)).ToArray()));
        }
        var sessions = variants.Select(v => v.Blocks.Select(b => new InferenceSession(b, new SessionOptions { IntraOpThreads = threads, UseKernelCache = false, SparseKernel = "dense" })).ToArray()).ToArray();
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (var round = -2; round < rounds; round++)
        {
            for (var v = 0; v < variants.Count; v++)
            {
                var start = ThreadCpuClock.SecondsOrWall();
                for (var layer = 0; layer < sessions[v].Length; layer++)
                {
                    var outputs = sessions[v][layer].Run(new Dictionary<string, Tensor> { ["x"] = inputs[layer] });
                    foreach (var t in outputs.Values) t.Dispose();
                }
                if (round >= 0) times[v].Add((ThreadCpuClock.SecondsOrWall() - start) * 1e3);
            }
        }
        var denseMs = Statistics.Median(times[0]);
        Console.WriteLine("| FFN blocks (6 layers) | ms per batch (median) | speed-up against dense |");
        Console.WriteLine("| --- | --- | --- |");
        for (var v = 0; v < variants.Count; v++)
            Console.WriteLine($"| {variants[v].Name} | {Statistics.Median(times[v]):F2} | {denseMs / Statistics.Median(times[v]):F2}x |");
        foreach (var s in sessions.SelectMany(x => x)) s.Dispose();
        return 0;
    }

    /// <summary>"4" when every layer runs the same k, else each layer's k in order ("1,8,2,13,8,6").</summary>
    private static string KPerLayer(Node[] nodes)
    {
        var k = nodes.Select(n => n.GetInt("k", 2)).ToArray();
        return k.Distinct().Count() == 1 ? k[0].ToString(CultureInfo.InvariantCulture) : string.Join(",", k);
    }

    private static Tensor<float>[] CaptureFfnInputs(Model model, EncoderStructure structure, IReadOnlyDictionary<string, Tensor> batch)
    {
        var probe = model.Clone();
        var names = structure.Layers.Select(l => l.FeedForward.Up.MatMul.Inputs[0]).ToArray();
        foreach (var n in names) probe.Graph.Outputs.Add(new ValueInfo(n, DataType.Float32, null));
        using var session = new InferenceSession(probe, new SessionOptions { UseKernelCache = false });
        var outputs = session.Run(batch);
        return names.Select(n => (Tensor<float>)outputs[n].Clone()).ToArray();
    }

    private static Model Block(ModelGraph source, IEnumerable<string> weights, IEnumerable<Node> nodes, string output, bool sparrowDomain)
    {
        var graph = new ModelGraph { Name = "ffn" };
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, null));
        foreach (var w in weights.Where(w => w.Length > 0)) graph.Initializers[w] = source.Initializers[w];
        graph.Nodes.AddRange(nodes);
        graph.Outputs.Add(new ValueInfo(output, DataType.Float32, null));
        var model = new Model(graph);
        model.OpsetImports[""] = 17;
        if (sparrowDomain) model.OpsetImports["ai.sparrow"] = 1;
        return model;
    }

    private static Model DenseBlock(ModelGraph graph, FeedForwardBlock ffn)
    {
        var x = ffn.Up.MatMul.Inputs[0];
        var nodes = new List<Node>
        {
            new("MatMul", ["x", ffn.Up.WeightName], ["u"]),
            new("Add", ["u", ffn.Up.BiasName!], ["ub"]),
            new("Gelu", ["ub"], ["g"], domain: "ai.sparrow"),
            new("MatMul", ["g", ffn.Down.WeightName], ["d"]),
            new("Add", ["d", ffn.Down.BiasName!], ["y"]),
        };
        _ = x;
        return Block(graph, [ffn.Up.WeightName, ffn.Up.BiasName!, ffn.Down.WeightName, ffn.Down.BiasName!], nodes, "y", sparrowDomain: true);
    }

    private static Model MoeBlock(ModelGraph graph, Node moe)
    {
        var bias = graph.Nodes.Single(n => n.OpType == "Add" && n.Inputs[0] == moe.Outputs[0]);
        var node = new Node("MoE", ["x", .. moe.Inputs.Skip(1)], ["m"], domain: "ai.sparrow");
        node.Attributes.AddRange(moe.Attributes);
        var add = new Node("Add", ["m", bias.Inputs[1]], ["y"]);
        return Block(graph, [.. moe.Inputs.Skip(1), bias.Inputs[1]], [node, add], "y", sparrowDomain: true);
    }
}
