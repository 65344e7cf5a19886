using System.Text.Json;
using Sparrow.Graph.Onnx;
using Sparrow.Tensors;

namespace Sparrow.Cli.Tests;

public sealed class RecoverTests
{
    /// <summary>MiniLM with two weights (one of each shape) pruned 90% by magnitude, made once: a pruned copy of the embedded model.</summary>
    private static readonly Lazy<string> PrunedMiniLm = new(() =>
    {
        var path = RunFiles.Model("recover-pruned");
        var result = CliRunner.Run("prune", "--method", "magnitude", "--sparsity", "0.9", "--include", "^(927|939)$", "-o", path);
        Assert.True(result.ExitCode == 0, result.ToString());
        return path;
    });

    /// <summary>Four sentences and a batch of four: every step sees the same batch, so its loss must fall.</summary>
    private static string Sentences(TempDirectory folder)
    {
        var path = folder.File("texts.txt");
        File.WriteAllLines(path, ["# training texts", "The train was late again this morning.", "Cats sleep for most of the day.",
            "She planted tomatoes along the fence.", "We walked to the harbour after dinner."]);
        return path;
    }

    private static string[] Tiny(TempDirectory folder, params string[] more) =>
        ["recover", PrunedMiniLm.Value, "--data", Sentences(folder), "--steps", "4", "--batch", "4", "--max-tokens", "16", "--lr", "3e-5", .. more];

    [Fact]
    public void Recover_keeps_the_zeros_lowers_the_loss_and_raises_fidelity()
    {
        using var folder = new TempDirectory();
        var output = folder.File("recovered.onnx");
        var json = folder.File("recover.json");
        var result = CliRunner.Run(Tiny(folder, "--fidelity-sentences", "4", "--json", json, "-o", output));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Energy per epoch (estimated", result.Output);
        Assert.Contains("Kept all", result.Output);

        var input = OnnxImporter.Load(PrunedMiniLm.Value);
        var recovered = OnnxImporter.Load(output);
        var changed = 0;
        foreach (var name in new[] { "927", "939" })
        {
            var before = input.Graph.Initializers[name].As<float>().ToArray();
            var after = recovered.Graph.Initializers[name].As<float>().ToArray();
            for (var i = 0; i < before.Length; i++)
            {
                if (before[i] == 0) Assert.Equal(0f, after[i]);
                else if (after[i] != before[i]) changed++;
            }
            Assert.Equal(before.Count(v => v == 0), after.Count(v => v == 0));
        }
        Assert.True(changed > 0, "training changed no kept weight");

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.Equal(4, root.GetProperty("stepsRun").GetInt64());
        Assert.True(root.GetProperty("lastLoss").GetDouble() < root.GetProperty("firstLoss").GetDouble(), root.ToString());
        Assert.True(root.GetProperty("fidelityAfter").GetDouble() > root.GetProperty("fidelityBefore").GetDouble(), root.ToString());
        // One batch is one epoch here: energy for each, and in total, labelled as the estimate it is on this machine.
        Assert.Equal(4, root.GetProperty("epochs").GetArrayLength());
        Assert.All(root.GetProperty("epochs").EnumerateArray(), e => Assert.True(e.GetProperty("joules").GetDouble() >= 0));
        Assert.True(root.GetProperty("energy").GetProperty("joules").GetDouble() > 0);
        Assert.False(string.IsNullOrEmpty(root.GetProperty("energy").GetProperty("method").GetString()));
    }

    [Fact]
    public void Json_alone_goes_to_standard_output_and_a_checkpoint_resumes()
    {
        using var folder = new TempDirectory();
        var output = folder.File("recovered.onnx");
        var checkpoint = folder.File("run.ckpt");
        var first = CliRunner.Run(Tiny(folder, "--checkpoint", checkpoint, "--fidelity-sentences", "0", "-o", output, "--json"));
        Assert.True(first.ExitCode == 0, first.ToString());
        using (var doc = JsonDocument.Parse(first.Output))
            Assert.Equal(0, doc.RootElement.GetProperty("resumedFrom").GetInt64());
        Assert.True(File.Exists(checkpoint));

        // The checkpoint holds the finished run: a second run resumes at its end and trains no more.
        var again = CliRunner.Run(Tiny(folder, "--checkpoint", checkpoint, "--fidelity-sentences", "0", "-o", folder.File("again.onnx"), "--json"));
        Assert.True(again.ExitCode == 0, again.ToString());
        using (var doc = JsonDocument.Parse(again.Output))
        {
            Assert.Equal(4, doc.RootElement.GetProperty("resumedFrom").GetInt64());
            Assert.Equal(0, doc.RootElement.GetProperty("stepsRun").GetInt64());
        }
        Assert.Equal(File.ReadAllBytes(output), File.ReadAllBytes(folder.File("again.onnx")));
    }

    [Fact]
    public void Help_lists_the_options()
    {
        var result = CliRunner.Run("recover", "--help");
        Assert.Equal(0, result.ExitCode);
        foreach (var option in new[] { "--teacher", "--steps", "--budget", "--original-steps", "--data", "--lr", "--batch", "--seed", "--checkpoint", "--json", "--output" })
            Assert.Contains(option, result.Output);
    }

    [Theory]
    [InlineData("missing-output")]
    [InlineData("steps-and-budget")]
    [InlineData("neither")]
    [InlineData("budget-without-original")]
    [InlineData("output-over-input")]
    [InlineData("bad-loss")]
    public void Bad_arguments_are_usage_errors(string @case)
    {
        using var folder = new TempDirectory();
        var model = PrunedMiniLm.Value;
        var output = folder.File("out.onnx");
        string[] args = @case switch
        {
            "missing-output" => ["recover", model, "--steps", "2"],
            "steps-and-budget" => ["recover", model, "--steps", "2", "--budget", "0.2", "--original-steps", "100", "-o", output],
            "neither" => ["recover", model, "-o", output],
            "budget-without-original" => ["recover", model, "--budget", "0.2", "-o", output],
            "output-over-input" => ["recover", model, "--steps", "2", "-o", model],
            _ => ["recover", model, "--steps", "2", "--loss", "kl", "-o", output],
        };
        var result = CliRunner.Run(args);
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Single(result.ErrorLines);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void A_model_that_is_not_a_MiniLM_copy_needs_a_teacher()
    {
        using var folder = new TempDirectory();
        var other = folder.File("other.onnx");
        // A copy with one weight renamed no longer matches the embedded model's layout.
        var model = OnnxImporter.Load(PrunedMiniLm.Value);
        var tensor = model.Graph.Initializers["927"];
        model.Graph.Initializers.Remove("927");
        model.Graph.Initializers["renamed"] = tensor;
        foreach (var node in model.Graph.Nodes)
            for (var i = 0; i < node.Inputs.Count; i++)
                if (node.Inputs[i] == "927") node.Inputs[i] = "renamed";
        OnnxExporter.Save(model, other);
        var result = CliRunner.Run("recover", other, "--steps", "1", "-o", folder.File("out.onnx"));
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--teacher", result.Error);
    }
}
