using SharpFuzz;
using Sparrow.Fuzz;

// Under AFL++ (scripts/fuzz-loader.sh): the forkserver feeds one input at a time through standard input.
// With a file or folder argument: runs each file once and prints the outcome (to replay crashes by hand).
if (args is ["--write-mlp", var path])
{
    Sparrow.Graph.Onnx.OnnxExporter.Save(LoaderTarget.SmallMlp(), path);
    return;
}
if (args.Length > 0)
{
    var files = Directory.Exists(args[0]) ? Directory.GetFiles(args[0]) : args;
    foreach (var file in files.Order(StringComparer.Ordinal))
        Console.WriteLine($"{Path.GetFileName(file)}: {LoaderTarget.Run(File.ReadAllBytes(file))}");
    return;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    LoaderTarget.Run(copy.ToArray());
});
