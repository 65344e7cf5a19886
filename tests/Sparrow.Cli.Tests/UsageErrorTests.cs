using Sparrow.Graph;
using Sparrow.Graph.Builders;
using Sparrow.Graph.Onnx;
using Sparrow.Tensors;

namespace Sparrow.Cli.Tests;

/// <summary>Bad usage and bad input: exit code 2 and one line that says what is wrong, never a stack trace.</summary>
public class UsageErrorTests
{
    private static void AssertOneLineError(CliRunner.Result r, params string[] mentions)
    {
        Assert.True(r.ExitCode == ExitCodes.BadInput, r.ToString());
        var lines = r.ErrorLines;
        Assert.True(lines.Length == 1, r.ToString());
        Assert.StartsWith("error: ", lines[0]);
        foreach (var m in mentions) Assert.Contains(m, lines[0]);
        Assert.DoesNotContain("   at ", r.Error + r.Output);
    }

    [Fact]
    public void Help_lists_every_command()
    {
        var r = CliRunner.Run("--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var c in new[] { "embed", "demo", "verify", "inspect", "bench" }) Assert.Contains(c, r.Output);
    }

    [Fact]
    public void Command_help_lists_its_options()
    {
        var r = CliRunner.Run("verify", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var o in new[] { "--batch", "--seq", "--seed", "--input", "--threads", "--atol", "--rtol" }) Assert.Contains(o, r.Output);
    }

    [Fact]
    public void No_command_is_bad_usage() => AssertOneLineError(CliRunner.Run(), "--help");

    [Fact]
    public void Unknown_command_is_bad_usage() => AssertOneLineError(CliRunner.Run("frobnicate"), "frobnicate");

    [Fact]
    public void Unknown_option_is_bad_usage() => AssertOneLineError(CliRunner.Run("verify", "--wrong"), "--wrong");

    [Fact]
    public void Option_value_of_the_wrong_type_is_bad_usage() => AssertOneLineError(CliRunner.Run("verify", "--batch", "many"), "--batch");

    [Fact]
    public void Embed_without_texts_is_bad_usage() => AssertOneLineError(CliRunner.Run("embed"));

    [Theory]
    [InlineData("verify")]
    [InlineData("inspect")]
    [InlineData("bench")]
    public void Missing_model_file_names_the_path(string command)
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "model.onnx");
        AssertOneLineError(CliRunner.Run(command, path), path, "not found");
    }

    [Fact]
    public void A_folder_instead_of_a_model_is_bad_input()
    {
        using var dir = new TempDirectory();
        AssertOneLineError(CliRunner.Run("inspect", dir.Path), dir.Path);
    }

    [Fact]
    public void Random_bytes_are_not_a_model()
    {
        using var dir = new TempDirectory();
        var path = dir.File("garbage.onnx");
        var bytes = new byte[4096];
        new Random(42).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        AssertOneLineError(CliRunner.Run("verify", path), path);
        AssertOneLineError(CliRunner.Run("inspect", path), path);
    }

    [Fact]
    public void A_truncated_model_is_bad_input()
    {
        using var dir = new TempDirectory();
        var path = dir.File("truncated.onnx");
        var bytes = File.ReadAllBytes(CliRunner.MiniLmPath);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);
        AssertOneLineError(CliRunner.Run("verify", path), path);
    }

    [Fact]
    public void An_empty_file_is_bad_input()
    {
        using var dir = new TempDirectory();
        var path = dir.File("empty.onnx");
        File.WriteAllBytes(path, Array.Empty<byte>());
        AssertOneLineError(CliRunner.Run("verify", path), path);
    }

    [Fact]
    public void An_unknown_operator_is_named()
    {
        using var dir = new TempDirectory();
        var graph = new ModelGraph();
        graph.Inputs.Add(new ValueInfo("x", DataType.Float32, new[] { Dimension.Fixed(2) }));
        graph.Nodes.Add(new Node("Frobnicate", new[] { "x" }, new[] { "y" }, "frob", "com.example"));
        graph.Outputs.Add(new ValueInfo("y", DataType.Float32, new[] { Dimension.Fixed(2) }));
        var model = new Model(graph);
        model.OpsetImports["com.example"] = 1;
        var path = dir.File("custom.onnx");
        OnnxExporter.Save(model, path);
        AssertOneLineError(CliRunner.Run("verify", path), "Frobnicate");
    }

    [Theory]
    [InlineData("image")]
    [InlineData("image=")]
    [InlineData("=x.npy")]
    public void A_malformed_input_spec_is_bad_usage(string spec)
    {
        using var dir = new TempDirectory();
        var path = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(), path);
        AssertOneLineError(CliRunner.Run("verify", path, "--input", spec), "NAME=FILE.npy");
    }

    [Fact]
    public void An_input_the_model_does_not_have_is_named()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(), path);
        AssertOneLineError(CliRunner.Run("verify", path, "--input", "pixels=x.npy"), "pixels", "image");
    }

    [Fact]
    public void A_missing_npy_file_is_named()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(), path);
        AssertOneLineError(CliRunner.Run("verify", path, "--input", $"image={dir.File("nope.npy")}"), "nope.npy");
    }

    [Fact]
    public void An_npy_file_of_the_wrong_type_is_named()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(), path);
        var npy = dir.File("flags.npy");
        Execution.Npy.Write(npy, Tensor<bool>.FromArray(new[] { true, false }, 2));
        AssertOneLineError(CliRunner.Run("verify", path, "--input", $"image={npy}"), "flags.npy", "bool", "float32");
    }

    [Theory]
    [InlineData("--batch", "0")]
    [InlineData("--seq", "-3")]
    [InlineData("--threads", "-1")]
    public void Sizes_below_one_are_bad_usage(string option, string value)
    {
        using var dir = new TempDirectory();
        var path = dir.File("cnn.onnx");
        OnnxExporter.Save(SmallCnn.Build(), path);
        AssertOneLineError(CliRunner.Run("verify", path, option, value), option);
    }

    [Theory]
    [InlineData("--batch", "1,x")]
    [InlineData("--batch", "0")]
    [InlineData("--seq", ",")]
    [InlineData("--runs", "0")]
    public void Bench_rejects_bad_sizes(string option, string value) =>
        AssertOneLineError(CliRunner.Run("bench", option, value), option);

    [Fact]
    public void Embed_rejects_a_max_length_past_the_model_positions() =>
        AssertOneLineError(CliRunner.Run("embed", "hello", "--max-length", "1000"), "--max-length");

    [Fact]
    public void Json_output_naming_an_input_of_the_command_is_refused()
    {
        using var folder = new TempDirectory();
        var recipe = folder.File("plan.json");
        const string plan = """{ "method": "magnitude", "sparsity": 0.5 }""";
        File.WriteAllText(recipe, plan);
        var r = CliRunner.Run("prune", "--recipe", recipe, "-o", folder.File("out.onnx"), "--json", recipe);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--json", r.Error);
        Assert.Equal(plan, File.ReadAllText(recipe)); // untouched
    }

    [Fact]
    public void Bench_outputs_need_their_extensions_and_never_name_a_model()
    {
        using var folder = new TempDirectory();
        var model = CliRunner.MiniLmPath;
        AssertOneLineError(CliRunner.Run("bench", model, "--csv", folder.File("results.txt")), "--csv");
        AssertOneLineError(CliRunner.Run("bench", model, "--energy-plot", folder.File("plot.jpg")), "--energy-plot");
        // A model that happens to end in .csv is still a model: never written over.
        var csvModel = folder.File("model.csv");
        File.Copy(model, csvModel);
        AssertOneLineError(CliRunner.Run("bench", csvModel, "--csv", csvModel), "--csv");
        Assert.Equal(new FileInfo(model).Length, new FileInfo(csvModel).Length);
    }
}
