using Sparrow.Training.Experiments;

// dotnet run -c Release --project bench/Sparrow.Training.Experiments -- fashion-mnist [--steps N] [--data DIR] ...
if (args.Length > 0 && args[0] == "profile") return StepProfile.Run(args[1..]);
if (args.Length > 0 && args[0] == "char-gpt") return CharGptExperiment.Run(args[1..]);
if (args.Length > 0 && args[0] == "moe-gpt") return MoEGptExperiment.Run(args[1..]);
if (args.Length > 0 && args[0] == "weight-gradient") return WeightGradientTiming.Run(args[1..]);
if (args.Length > 0 && args[0] == "moe-ffn") return MoeFfnTiming.Run(args[1..]);
if (args.Length > 0 && args[0] == "act-sparse") return ActivationSparsityExperiment.Run(args[1..]);
if (args.Length > 0 && args[0] == "minilm-step") return MiniLmStepTiming.Run(args[1..]);
if (args.Length == 0 || args[0] != "fashion-mnist")
{
    Console.Error.WriteLine("usage: Sparrow.Training.Experiments fashion-mnist [--data DIR] [--steps N] [--batch B] [--lr RATE] [--threads T] [--seed S] [--timing-steps K] [--distill] [--scope layer|global] [--recovery-lr RATE] [--gradual [--gradual-fraction 0.5] [--gradual-prunings 10]] [--sparsities 0.9,0.95] [--budgets 0.1,0.2] [--dense FILE.onnx] [--no-timing] [--timing-only]\n" +
        "       Sparrow.Training.Experiments char-gpt [--steps N] [--batch B] [--context T] [--width D] [--layers L] [--heads H] [--method wanda|sparsegpt] [--text FILE] [--out DIR] ...\n" +
        "       Sparrow.Training.Experiments moe-gpt [--steps N] [--experts E] [--k K] [--expert-ratio R] [--balance C] [--z-loss C] [--width D] [--layers L] ...\n" +
        "       Sparrow.Training.Experiments weight-gradient [--out 300] [--in 784] [--batch 128]\n" +
        "       Sparrow.Training.Experiments act-sparse [--model char-gpt-dense.onnx] [--sparsities 0.4,0.5] [--rows 256] [--rounds 15] [--eval-windows 256]\n" +
        "       Sparrow.Training.Experiments moe-ffn MOEFIED.onnx ... [--sentences 8] [--rounds 15] [--threads 1]\n" +
        "       Sparrow.Training.Experiments minilm-step [--batch 8] [--seq 32] [--rounds 5] [--threads 1]");
    return 2;
}
try
{
    return FashionMnistExperiment.Run(args[1..]);
}
catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException or FormatException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
