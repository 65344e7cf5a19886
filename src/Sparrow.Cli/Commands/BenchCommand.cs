using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sparrow.Cli.Execution;
using Sparrow.Energy;
using Sparrow.Graph;
using Sparrow.Runtime;
using Sparrow.Tensors;
using Spectre.Console;
using static Sparrow.Cli.Execution.BenchOutput;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow bench MODEL.onnx [MORE.onnx ...]</c>: each model in Sparrow and in ONNX Runtime side by side in one
/// process, same inputs and thread count, every engine and model taking turns (A B C D A B C D) after a warm-up
/// so that none gets a quieter machine; medians per batch size and sequence length, ratios against ONNX Runtime
/// on the same model and on the first one (the dense baseline), weight memory, and where Sparrow's time goes.
/// </summary>
internal static class BenchCommand
{
    /// <summary>The shortest warm-up per batch size and sequence length, whatever --warmup says.</summary>
    private static readonly TimeSpan MinimumWarmup = TimeSpan.FromSeconds(3);

    internal sealed record Settings(
        IReadOnlyList<string> ModelPaths, string Batches, string Sequences, int Threads, int Warmup, int Runs, int Seed,
        string? Markdown, bool Profile, string? Json = null, string SparseKernel = "auto",
        EnergySettings? Energy = null, string? Csv = null, string? EnergyPlot = null, Action<int, int>? Progress = null)
    {
        /// <summary>Where the JSON goes: null (nowhere), "" (standard output, instead of the tables) or a file.</summary>
        public string? Json { get; init; } = Json;

        /// <summary>Called with (groups measured, groups) as the work goes; without it the command draws its own progress.</summary>
        public Action<int, int>? Progress { get; init; } = Progress;

        /// <summary>Whether the batch sizes are the user's (--batch given) rather than the default, which gives way to a model's fixed batch.</summary>
        public bool BatchesGiven { get; init; } = true;
    }

    /// <summary>
    /// Weight memory of one model: the bytes of its initializers (for a pruned model stored dense, as many as the
    /// dense model's), the bytes its Sparrow session holds (<see cref="InferenceSession.WeightBytes"/>: sparse
    /// formats, packed dense weights, other constants) and the kernel the session chose per weight (node -> kernel).
    /// </summary>
    internal sealed record WeightMemory(long InitializerBytes, long? SessionBytes, IReadOnlyDictionary<string, string>? KernelChoices);

    /// <summary>One model under test: its Sparrow session and its ONNX Runtime session.</summary>
    private sealed class BenchModel : IDisposable
    {
        public BenchModel(LoadedModel model, string label, int threads, string sparseKernel)
        {
            Model = model;
            Label = label;
            HasSequence = HasSequenceDimension(model.Model.Graph);
            Session = new InferenceSession(model.Model, new SessionOptions { IntraOpThreads = threads, SparseKernel = sparseKernel });
            try
            {
                Ort = new OrtModelRunner(model, threads, allowSpinning: false);
            }
            catch
            {
                Session.Dispose();
                throw;
            }
            Weights = MeasureWeights(model, Session);
        }

        public LoadedModel Model { get; }
        public string Label { get; }
        public bool HasSequence { get; }
        public InferenceSession Session { get; }
        public OrtModelRunner Ort { get; }
        public WeightMemory Weights { get; }

        public void Dispose()
        {
            Ort.Dispose();
            Session.Dispose();
        }
    }

    /// <summary>One model at one batch size and sequence length.</summary>
    /// <param name="BaselineOrt">ONNX Runtime on the first model (the dense baseline) at the same batch and sequence.</param>
    /// <param name="ProfileWall">Wall time of all the profiled runs together, to show the time spent outside operators.</param>
    internal sealed record Row(
        int Batch, int? Sequence, int ModelIndex, string Model, BenchStats Sparrow, BenchStats Ort, BenchStats BaselineOrt, long Flops,
        IReadOnlyDictionary<string, TimeSpan> Profile, int ProfileRuns, TimeSpan ProfileWall,
        EnergyStats? SparrowEnergy = null, EnergyStats? OrtEnergy = null)
    {
        /// <summary>Sparrow's time over ONNX Runtime's on the same model: below 1, Sparrow is faster.</summary>
        public double Ratio => Sparrow.Median / Ort.Median;

        /// <summary>Sparrow's time over ONNX Runtime's on the first model.</summary>
        public double RatioToBaseline => Sparrow.Median / BaselineOrt.Median;

        public string Label => Sequence is { } s ? $"b{Batch} s{s}" : $"b{Batch}";
    }

    public static Command Create(CommandContext context)
    {
        var models = new Argument<string[]>("models")
        {
            Description = "Paths of .onnx files, the first being the baseline the others are compared with (e.g. the dense model, then pruned ones); omitted, the embedded all-MiniLM-L6-v2.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var batch = new Option<string>("--batch") { Description = "Batch sizes, comma-separated.", DefaultValueFactory = _ => "1,8,32" };
        var sequence = new Option<string>("--seq") { Description = "Sequence lengths, comma-separated (ignored by models without one).", DefaultValueFactory = _ => "32,128" };
        var threads = CommonOptions.Threads();
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs of each engine before measuring (the JIT needs them to tier up).", DefaultValueFactory = _ => 30 };
        var runs = new Option<int>("--runs") { Description = "Timed runs of each engine per batch size and sequence length.", DefaultValueFactory = _ => 20 };
        var seed = CommonOptions.Seed();
        var markdown = new Option<string?>("--markdown") { Description = "Append the results as Markdown tables to this file (e.g. BENCHMARKS.md), with the command that made them." };
        var json = JsonOutput.Option();
        var csv = new Option<string?>("--csv") { Description = "Write one row per batch, sequence, model and engine as CSV (stable columns: latency and energy) to this file." };
        var energyPlot = new Option<string?>("--energy-plot") { Description = "Draw Sparrow's energy per inference against each model's weight sparsity to this .png or .svg." };
        var energy = new EnergyOptions();
        var sparseKernel = CommonOptions.SparseKernel();
        var noProfile = new Option<bool>("--no-profile") { Description = "Skip the per-operator profile of Sparrow." };
        var command = new Command("bench", "Measures Sparrow against ONNX Runtime on one or more models, side by side, per batch size and sequence length.")
        {
            models, batch, sequence, threads, warmup, runs, seed, markdown, json, csv, energyPlot, noProfile, sparseKernel,
        };
        energy.AddTo(command);
        command.Add(KernelBenchCommand.Create(context));
        command.Add(ServeBenchCommand.Create(context));
        command.SetAction(parse => Run(context, new Settings(
            parse.GetValue(models) ?? [], parse.GetValue(batch) ?? "1", parse.GetValue(sequence) ?? "32", parse.GetValue(threads),
            parse.GetValue(warmup), parse.GetValue(runs), parse.GetValue(seed), parse.GetValue(markdown), !parse.GetValue(noProfile),
            JsonOutput.Target(parse, json), parse.GetValue(sparseKernel) ?? "auto", energy.Read(parse), parse.GetValue(csv), parse.GetValue(energyPlot))
        {
            BatchesGiven = parse.GetResult(batch) is { Implicit: false },
        }));
        return command;
    }

    /// <summary>An output file must say what it holds: a model or other input given by mistake is never written over.</summary>
    private static void CheckExtension(string? path, string option, params string[] extensions)
    {
        if (path is null) return;
        if (!extensions.Any(e => Path.GetExtension(path).Equals(e, StringComparison.OrdinalIgnoreCase)))
            throw new UsageException($"{option} {path}: give a file name ending in {string.Join(" or ", extensions)}.");
    }

    internal static int Run(CommandContext context, Settings settings)
    {
        var console = context.Console;
        var batches = CommonOptions.ParseSizes(settings.Batches, "--batch");
        var sequences = CommonOptions.ParseSizes(settings.Sequences, "--seq");
        if (settings.Warmup < 0) throw new UsageException($"--warmup must be 0 or more, got {settings.Warmup}.");
        if (settings.Runs < 1) throw new UsageException($"--runs must be at least 1, got {settings.Runs}.");
        CheckFileOption(settings.Markdown, "--markdown");
        CheckFileOption(settings.Csv, "--csv");
        CheckFileOption(settings.EnergyPlot, "--energy-plot");
        CheckExtension(settings.Csv, "--csv", ".csv");
        CheckExtension(settings.EnergyPlot, "--energy-plot", ".png", ".svg");
        foreach (var (output, option) in new[] { (settings.Csv, "--csv"), (settings.EnergyPlot, "--energy-plot"), (settings.Markdown, "--markdown"), (settings.Json, "--json") })
            JsonOutput.RefuseInputs(output, option, settings.ModelPaths);
        var energySettings = settings.Energy ?? new EnergySettings();
        var footprint = energySettings.Footprint();
        var meterChoice = energySettings.ChooseMeter();
        // Why a counter was not used, said where the user reads it, not only in the JSON.
        foreach (var skip in meterChoice.Skipped) context.Info($"Energy: skipped {Markup.Escape(skip)}.");
        if (meterChoice.Meter.Method == EnergyMethod.Perf)
            context.Info("Energy: perf is read once around a block of runs per engine and model (starting perf costs more than one run), after the timed runs.");
        var threads = CommonOptions.ResolveThreads(settings.Threads);
        var sparseKernel = CommonOptions.ResolveSparseKernel(settings.SparseKernel);
        var paths = settings.ModelPaths.Count > 0 ? settings.ModelPaths.Cast<string?>().ToArray() : [null];
        var labels = Labels(paths);

        var models = new List<BenchModel>();
        try
        {
            // Every file is read before any session is made, so that a bad path fails at once.
            var loaded = paths.Select(LoadedModel.Load).ToArray();
            for (var i = 0; i < loaded.Length; i++) models.Add(new BenchModel(loaded[i], labels[i], threads, sparseKernel));
            var hasSequence = models.Any(m => m.HasSequence);
            if (!hasSequence) sequences = sequences[..1];
            batches = BatchesToRun(models, batches, settings.BatchesGiven);

            foreach (var m in models) context.Info($"Model [bold]{Markup.Escape(m.Model.DisplayName)}[/]{(m.Label != m.Model.DisplayName ? $" ({Markup.Escape(m.Label)})" : "")}");
            context.Info($"CPU {Markup.Escape(MachineInfo.CpuModel)}, {MachineInfo.LogicalCores} logical cores, {Markup.Escape(MachineInfo.VectorIsa)}");
            context.Info($"{Markup.Escape(MachineInfo.Runtime)}; ONNX Runtime {OrtModelRunner.Version}; {threads} thread(s) each; {settings.Warmup} warm-up runs{(settings.Warmup > 0 ? $" (and at least {MinimumWarmup.TotalSeconds:0} s)" : "")}, then {settings.Runs} timed runs alternating {(models.Count > 1 ? "every model in " : "")}Sparrow and ONNX Runtime.");

            var rows = new List<Row>();
            var groups = batches.SelectMany(b => sequences.Select(s => (Batch: b, Sequence: s))).ToArray();
            void MeasureAll(Action<int, int> progress)
            {
                foreach (var (b, s) in groups)
                {
                    var group = Measure(models, b, s, hasSequence, settings, meterChoice.Meter);
                    rows.AddRange(group);
                    foreach (var row in group)
                        context.Info($"  {row.Label}{(models.Count > 1 ? " " + Markup.Escape(row.Model) : "")}: Sparrow {Ms(row.Sparrow.Median)} ms, ONNX Runtime {Ms(row.Ort.Median)} ms, ratio {Ratio(row.Ratio)}"
                            + (row.ModelIndex > 0 ? $", vs ONNX Runtime on {Markup.Escape(models[0].Label)} {Ratio(row.RatioToBaseline)}" : ""));
                    progress(rows.Count / models.Count, groups.Length);
                }
            }
            if (settings.Progress is { } report) MeasureAll(report);
            else context.Progress("Benchmarking", groups.Length, step => MeasureAll(step.AsCallback()));

            JsonOutput.Write(context, settings.Json, JsonResults(context, models, rows, settings, threads, footprint, meterChoice), () =>
            {
                console.Write(ResultTable(rows, hasSequence, models));
                console.Write(EnergyTable(rows, hasSequence, models, footprint, meterChoice));
                if (models.Count > 1 || models[0].Weights.SessionBytes is not null || models[0].Weights.KernelChoices is not null) console.Write(WeightTable(models));
                if (settings.Profile)
                    for (var i = 0; i < models.Count; i++)
                        console.Write(ProfileTable(rows.Where(r => r.ModelIndex == i).ToArray(), models.Count > 1 ? models[i].Label : null));
            });
            if (settings.Markdown is { } path)
            {
                AppendMarkdown(path, Markdown(context, models, rows, hasSequence, settings, threads, footprint, meterChoice));
                context.Info($"Appended the results to [bold]{Markup.Escape(path)}[/].");
            }
            if (settings.Csv is { } csvPath)
            {
                AtomicFile.WriteAllText(csvPath, EnergyCsv.Write(CsvRows(rows, hasSequence, footprint), footprint.Currency));
                context.Info($"Wrote the results as CSV to [bold]{Markup.Escape(csvPath)}[/].");
            }
            if (settings.EnergyPlot is { } plotPath)
            {
                var points = models.Select((m, i) => new EnergyPlots.Point(m.Label, WeightSparsity(m.Model.Model), null,
                    rows.Where(r => r.ModelIndex == i && r.SparrowEnergy is not null).Select(r => r.SparrowEnergy!.JoulesPerInference).DefaultIfEmpty(double.NaN).Average())).ToArray();
                EnergyPlots.SaveBySparsity(plotPath, points, $"Sparrow energy per inference ({EnergyFormat.Kind(meterChoice.Meter.Method)}), mean over batch and sequence sizes");
                context.Info($"Drew the energy plot to [bold]{Markup.Escape(plotPath)}[/].");
            }
            return ExitCodes.Success;
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }

    /// <summary>File names when they tell the models apart, else the paths as given.</summary>
    private static string[] Labels(string?[] paths)
    {
        var names = paths.Select(p => p is null ? Sparrow.Data.Models.DefaultModel.Name : Path.GetFileName(p)).ToArray();
        if (names.Distinct().Count() == names.Length) return names;
        return paths.Select((p, i) => p ?? names[i]).Select((l, i) => paths.Take(i).Contains(paths[i]) ? $"{l} (#{i + 1})" : l).ToArray();
    }

    /// <summary>The bytes of a model's weights as stored and as the session holds them, and the kernel per weight.</summary>
    private static WeightMemory MeasureWeights(LoadedModel model, InferenceSession session)
    {
        long bytes = 0;
        foreach (var t in model.Model.Graph.Initializers.Values) bytes += (long)t.Length * DataTypes.SizeOf(t.ElementType);
        var kernels = new Dictionary<string, string>();
        foreach (var choice in session.WeightKernels) kernels[choice.NodeName] = choice.Kernel;
        return new WeightMemory(bytes, session.WeightBytes, kernels);
    }

    /// <summary>
    /// The batch sizes to measure. Items per second and energy per item divide by the batch, so it must be the batch that
    /// runs: a model whose inputs fix it runs only that batch. The default sizes then give way to it; sizes the user
    /// asked for are refused, before anything is measured.
    /// </summary>
    private static int[] BatchesToRun(IReadOnlyList<BenchModel> models, int[] batches, bool given)
    {
        var fixedBatches = models.Select(m => (m.Label, Batch: InputGenerator.FixedBatch(m.Model.Model.Graph))).Where(m => m.Batch is not null).ToArray();
        if (fixedBatches.Length == 0) return batches;
        var sizes = fixedBatches.Select(m => m.Batch!.Value).Distinct().ToArray();
        if (sizes.Length > 1)
            throw new UsageException($"{string.Join(", ", fixedBatches.Select(m => $"{m.Label} fixes its batch at {m.Batch}"))}: no batch size fits them all; bench them apart.");
        var only = sizes[0];
        if (!given) return [only];
        var other = batches.FirstOrDefault(b => b != only);
        if (other != 0)
            throw new UsageException($"--batch {other}: {fixedBatches[0].Label} fixes its batch at {only} (its inputs' first dimension), so it always runs batch {only}; give --batch {only}, or a model with a dynamic batch.");
        return batches;
    }

    /// <summary>Whether --seq changes anything: some input has a dynamic dimension after its first (which is the batch).</summary>
    private static bool HasSequenceDimension(ModelGraph graph) =>
        graph.RequiredInputs.Any(i => i.Shape is { } shape && shape.Skip(1).Any(d => !d.IsFixed));

    /// <summary>Per model: its inputs, FLOPs and ONNX Runtime's views of the inputs.</summary>
    private sealed class Prepared(Dictionary<string, Tensor> inputs, long flops, OrtModelRunner.BoundInputs bound) : IDisposable
    {
        public Dictionary<string, Tensor> Inputs { get; } = inputs;
        public long Flops { get; } = flops;
        public OrtModelRunner.BoundInputs Bound { get; } = bound;

        public void Dispose()
        {
            Bound.Dispose();
            foreach (var t in Inputs.Values) t.Dispose();
        }
    }

    private static Prepared Prepare(BenchModel model, int batch, int sequence, Settings settings, int threads)
    {
        var inputs = new InputGenerator(model.Model.Model, batch, sequence).Generate(settings.Seed);
        try
        {
            long flops;
            try
            {
                flops = FlopCounter.Measure(model.Model.Model, inputs, threads).Sum(f => f.Flops);
            }
            catch (Exception e) when (SparrowApp.IsUserError(e))
            {
                throw new InferenceException($"Sparrow cannot run {model.Label} at batch {batch}: {e.Message}", e);
            }
            return new Prepared(inputs, flops, model.Ort.Bind(inputs));
        }
        catch
        {
            foreach (var t in inputs.Values) t.Dispose();
            throw;
        }
    }

    private static List<Row> Measure(List<BenchModel> models, int batch, int sequence, bool hasSequence, Settings settings, IEnergyMeter meter)
    {
        var threads = models[0].Ort.Threads;
        var prepared = new List<Prepared>();
        try
        {
            foreach (var m in models) prepared.Add(Prepare(m, batch, sequence, settings, threads));
            // At least the asked-for runs and at least MinimumWarmup of time: .NET promotes hot methods to
            // optimised code on a background timer, so at a few milliseconds a run, 30 runs are not enough.
            var warmupClock = Stopwatch.StartNew();
            for (var i = 0; i < settings.Warmup || settings.Warmup > 0 && warmupClock.Elapsed < MinimumWarmup; i++)
                for (var j = 0; j < models.Count; j++)
                {
                    RunSparrow(models[j].Session, prepared[j].Inputs, null);
                    RunOrt(models[j].Ort, prepared[j].Bound);
                }
            var sparrowTimes = models.Select(_ => new List<double>(settings.Runs)).ToArray();
            var ortTimes = models.Select(_ => new List<double>(settings.Runs)).ToArray();
            // Energy is read around each timed run (the runs alternate, so a total over the loop would mix engines);
            // the meter's own reads stay outside the latency stopwatch. perf is the exception: starting perf costs more
            // than a run of a few ms, so its energy is read once around a block of the same number of runs per engine
            // and model, after the timed loop.
            var perRun = meter.Method != EnergyMethod.Perf;
            var sparrowEnergy = models.Select(_ => new List<EnergyReading>(settings.Runs)).ToArray();
            var ortEnergy = models.Select(_ => new List<EnergyReading>(settings.Runs)).ToArray();
            for (var i = 0; i < settings.Runs; i++)
                for (var j = 0; j < models.Count; j++)
                {
                    using (var m = perRun ? meter.Start() : null)
                    {
                        sparrowTimes[j].Add(RunSparrow(models[j].Session, prepared[j].Inputs, null));
                        if (m is not null) sparrowEnergy[j].Add(m.Stop());
                    }
                    using (var m = perRun ? meter.Start() : null)
                    {
                        ortTimes[j].Add(RunOrt(models[j].Ort, prepared[j].Bound));
                        if (m is not null) ortEnergy[j].Add(m.Stop());
                    }
                }
            if (!perRun)
                for (var j = 0; j < models.Count; j++)
                {
                    using (var m = meter.Start())
                    {
                        for (var i = 0; i < settings.Runs; i++) RunSparrow(models[j].Session, prepared[j].Inputs, null);
                        sparrowEnergy[j].Add(m.Stop());
                    }
                    using (var m = meter.Start())
                    {
                        for (var i = 0; i < settings.Runs; i++) RunOrt(models[j].Ort, prepared[j].Bound);
                        ortEnergy[j].Add(m.Stop());
                    }
                }
            var runsPerReading = perRun ? 1 : settings.Runs;
            var baseline = BenchStats.Of(ortTimes[0]);
            var rows = new List<Row>();
            var profileRuns = settings.Profile ? Math.Max(3, settings.Runs / 4) : 0;
            for (var j = 0; j < models.Count; j++)
            {
                var profile = new NodeProfile();
                var wall = 0.0;
                for (var i = 0; i < profileRuns; i++)
                {
                    wall += RunSparrow(models[j].Session, prepared[j].Inputs, profile);
                    profile.CountRun();
                }
                int? seq = hasSequence && models[j].HasSequence ? sequence : null;
                rows.Add(new Row(batch, seq, j, models[j].Label, BenchStats.Of(sparrowTimes[j]), BenchStats.Of(ortTimes[j]), baseline,
                    prepared[j].Flops, profile.ByOpType, profileRuns, TimeSpan.FromMilliseconds(wall),
                    EnergyStats.Of(sparrowEnergy[j], batch, runsPerReading), EnergyStats.Of(ortEnergy[j], batch, runsPerReading)));
            }
            return rows;
        }
        finally
        {
            foreach (var p in prepared) p.Dispose();
        }
    }

    /// <returns>Milliseconds.</returns>
    private static double RunSparrow(InferenceSession session, IReadOnlyDictionary<string, Tensor> inputs, NodeProfile? profile)
    {
        var started = Stopwatch.GetTimestamp();
        var outputs = session.Run(inputs, profile);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        foreach (var t in outputs.Values) t.Dispose();
        return elapsed;
    }

    private static double RunOrt(OrtModelRunner ort, OrtModelRunner.BoundInputs inputs)
    {
        var started = Stopwatch.GetTimestamp();
        var outputs = ort.Run(inputs);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        outputs.Dispose();
        return elapsed;
    }

    /// <summary>The columns of the result table, shared by the console and Markdown so both say the same.</summary>
    private static (string[] Headers, List<string[]> Cells) ResultCells(IReadOnlyList<Row> rows, bool hasSequence, IReadOnlyList<BenchModel> models)
    {
        var multi = models.Count > 1;
        var headers = new List<string> { "batch" };
        if (hasSequence) headers.Add("seq");
        if (multi) headers.Add("model");
        headers.AddRange(["Sparrow", "ONNX Runtime", "Sparrow / ORT"]);
        if (multi) headers.Add($"Sparrow / ORT on {models[0].Label}");
        headers.AddRange(["Sparrow items/s", "ORT items/s", "Sparrow GFLOP/s", "ORT GFLOP/s"]);
        var cells = new List<string[]>();
        foreach (var r in rows)
        {
            var row = new List<string> { r.Batch.ToString(CultureInfo.InvariantCulture) };
            if (hasSequence) row.Add(r.Sequence?.ToString(CultureInfo.InvariantCulture) ?? "-");
            if (multi) row.Add(r.Model);
            row.AddRange([Spread(r.Sparrow), Spread(r.Ort), Ratio(r.Ratio)]);
            if (multi) row.Add(Ratio(r.RatioToBaseline));
            row.AddRange([PerSecond(r.Batch, r.Sparrow.Median), PerSecond(r.Batch, r.Ort.Median), Gflops(r.Flops, r.Sparrow.Median), Gflops(r.Flops, r.Ort.Median)]);
            cells.Add(row.ToArray());
        }
        return (headers.ToArray(), cells);
    }

    private static Table ResultTable(IReadOnlyList<Row> rows, bool hasSequence, IReadOnlyList<BenchModel> models)
    {
        var (headers, cells) = ResultCells(rows, hasSequence, models);
        var table = new Table().Border(TableBorder.Simple)
            .Title("latency per run, milliseconds: median (p25-p75); ratios are of times, below 1 Sparrow is faster");
        foreach (var header in headers)
        {
            // The console says "Sparrow/ORT" as it always has; Markdown keeps the spaced form.
            var column = new TableColumn(Markup.Escape(header.Replace(" / ", "/", StringComparison.Ordinal)));
            table.AddColumn(header is "batch" or "model" ? column : column.RightAligned());
        }
        foreach (var c in cells) table.AddRow(c.Select(Markup.Escape).ToArray());
        return table;
    }

    /// <summary>What the energy figures are and how they were obtained, for the table title and the Markdown.</summary>
    private static string EnergyCaption(FootprintSettings footprint, EnergyMeterChoice meter) =>
        $"Energy per inference (inf), the timed runs' total over their items (latency is the median); CPU ms, joules, inferences per joule, gCO2e and cost per million inferences: {meter.Meter.Description}; "
        + (meter.Meter.Method == EnergyMethod.Perf ? "read once around a block of as many runs per engine and model, after the timed runs (perf's start-up would swamp a single run) " : "read around each timed run ")
        + $"(the estimate: this whole process; counters: whole CPU packages); carbon and cost at {footprint.Describe()}";

    /// <summary>The energy table: one row per batch, sequence, model and engine, latency beside energy, shared by the console and Markdown.</summary>
    private static (string[] Headers, List<string[]> Cells) EnergyCells(IReadOnlyList<Row> rows, bool hasSequence, IReadOnlyList<BenchModel> models, FootprintSettings footprint)
    {
        var multi = models.Count > 1;
        var headers = new List<string> { "batch" };
        if (hasSequence) headers.Add("seq");
        if (multi) headers.Add("model");
        // Short headers: the table sits beside the latency table in 160 columns; the caption spells them out.
        headers.AddRange(["engine", "latency ms", "CPU ms/inf", "J/inf", "inf/J", "gCO2e/M inf", $"{footprint.Currency}/M inf"]);
        if (multi) headers.Add($"J vs {models[0].Label}");
        headers.Add("method");
        var cells = new List<string[]>();
        foreach (var r in rows)
            foreach (var (engine, latency, energy) in new[] { ("Sparrow", r.Sparrow, r.SparrowEnergy), ("ONNX Runtime", r.Ort, r.OrtEnergy) })
            {
                var row = new List<string> { r.Batch.ToString(CultureInfo.InvariantCulture) };
                if (hasSequence) row.Add(r.Sequence?.ToString(CultureInfo.InvariantCulture) ?? "-");
                if (multi) row.Add(r.Model);
                row.AddRange([engine, Ms(latency.Median)]);
                if (energy is null) row.AddRange(["-", "-", "-", "-", "-"]);
                else
                {
                    var million = footprint.PerMillion(energy.JoulesPerInference);
                    row.AddRange([EnergyFormat.Significant(energy.CpuSecondsPerInference * 1e3), EnergyFormat.Joules(energy.JoulesPerInference),
                        EnergyFormat.Significant(energy.InferencesPerJoule), EnergyFormat.Significant(million.GramsCo2e), EnergyFormat.Significant(million.Cost)]);
                }
                if (multi)
                {
                    var baseline = rows.FirstOrDefault(b => b.ModelIndex == 0 && b.Batch == r.Batch && b.Sequence == r.Sequence);
                    var baseEnergy = engine == "Sparrow" ? baseline?.SparrowEnergy : baseline?.OrtEnergy;
                    row.Add(energy is not null && baseEnergy is not null ? Ratio(energy.JoulesPerInference / baseEnergy.JoulesPerInference) : "-");
                }
                row.Add(energy is null ? "-" : EnergyFormat.Kind(energy.Method));
                cells.Add(row.ToArray());
            }
        return (headers.ToArray(), cells);
    }

    private static Table EnergyTable(IReadOnlyList<Row> rows, bool hasSequence, IReadOnlyList<BenchModel> models, FootprintSettings footprint, EnergyMeterChoice meter)
    {
        var (headers, cells) = EnergyCells(rows, hasSequence, models, footprint);
        var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape(EnergyCaption(footprint, meter)));
        foreach (var header in headers)
        {
            var column = new TableColumn(Markup.Escape(header));
            table.AddColumn(header is "model" or "engine" or "method" ? column : column.RightAligned());
        }
        foreach (var c in cells) table.AddRow(c.Select(Markup.Escape).ToArray());
        return table;
    }

    private static IEnumerable<BenchCsvRow> CsvRows(IReadOnlyList<Row> rows, bool hasSequence, FootprintSettings footprint) =>
        rows.SelectMany(r => new[]
        {
            new BenchCsvRow(r.Batch, r.Sequence, r.Model, "sparrow", r.Sparrow, r.Batch * 1000 / r.Sparrow.Median, r.SparrowEnergy,
                r.SparrowEnergy is { } se ? footprint.PerMillion(se.JoulesPerInference) : null),
            new BenchCsvRow(r.Batch, r.Sequence, r.Model, "onnxruntime", r.Ort, r.Batch * 1000 / r.Ort.Median, r.OrtEnergy,
                r.OrtEnergy is { } oe ? footprint.PerMillion(oe.JoulesPerInference) : null),
        });

    /// <summary>Fraction of zeros among the constant weights of MatMul, Gemm and Conv nodes (the weights pruning targets; embeddings are not counted).</summary>
    private static double WeightSparsity(Model model)
    {
        long zeros = 0, total = 0;
        var weights = model.Graph.Nodes.Where(n => n.OpType is "MatMul" or "Gemm" or "Conv").SelectMany(n => n.Inputs).ToHashSet();
        foreach (var (name, t) in model.Graph.Initializers)
            if (weights.Contains(name) && t is Tensor<float> f && f.Shape.Length >= 2)
            {
                total += f.Length;
                foreach (var v in f.Span) if (v == 0) zeros++;
            }
        return total == 0 ? 0 : (double)zeros / total;
    }

    private static (string[] Headers, List<string[]> Cells) WeightCells(IReadOnlyList<BenchModel> models)
    {
        var withSession = models.Any(m => m.Weights.SessionBytes is not null);
        var withKernels = models.Any(m => m.Weights.KernelChoices is not null);
        var headers = new List<string> { "model", "initializers MB", $"% of {models[0].Label}" };
        if (withSession) headers.AddRange(["in session MB", $"in session % of {models[0].Label}"]);
        if (withKernels) headers.Add("kernels (layers)");
        var baseline = models[0].Weights;
        var cells = new List<string[]>();
        foreach (var m in models)
        {
            var w = m.Weights;
            var row = new List<string> { m.Label, MegaBytes(w.InitializerBytes), Percent(w.InitializerBytes, baseline.InitializerBytes) };
            if (withSession)
                row.AddRange([w.SessionBytes is { } s ? MegaBytes(s) : "-",
                    w.SessionBytes is { } s2 && baseline.SessionBytes is { } b2 ? Percent(s2, b2) : "-"]);
            if (withKernels) row.Add(KernelSummary(w.KernelChoices));
            cells.Add(row.ToArray());
        }
        return (headers.ToArray(), cells);
    }

    /// <summary>"CSR 24, dense 12": how many layers run each kernel.</summary>
    private static string KernelSummary(IReadOnlyDictionary<string, string>? choices) =>
        choices is null ? "-" : string.Join(", ", choices.Values.GroupBy(k => k).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"));

    private static string Percent(long part, long whole) => whole == 0 ? "-" : (100.0 * part / whole).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static Table WeightTable(IReadOnlyList<BenchModel> models)
    {
        var (headers, cells) = WeightCells(models);
        var table = new Table().Border(TableBorder.Simple).Title("weight memory (initializers: as stored in the model, zeros included)");
        for (var i = 0; i < headers.Length; i++)
            table.AddColumn(i == 0 ? new TableColumn(Markup.Escape(headers[i])) : new TableColumn(Markup.Escape(headers[i])).RightAligned());
        foreach (var c in cells) table.AddRow(c.Select(Markup.Escape).ToArray());
        return table;
    }

    /// <summary>Op types that take at least this share somewhere get their own row; the rest are summed.</summary>
    private const int ProfileRows = 12;

    private static IReadOnlyList<string> ProfileOpTypes(IReadOnlyList<Row> rows) =>
        rows.SelectMany(r => r.Profile.Select(kv => (kv.Key, Share: Share(r, kv.Value))))
            .GroupBy(x => x.Key)
            .OrderByDescending(g => g.Max(x => x.Share))
            .Select(g => g.Key)
            .ToArray();

    /// <summary>A part of the profiled runs' wall time (operators plus the session's own work between them).</summary>
    private static double Share(Row r, TimeSpan t)
    {
        var total = Math.Max(r.ProfileWall.TotalMilliseconds, r.Profile.Values.Sum(v => v.TotalMilliseconds));
        return total == 0 ? 0 : t.TotalMilliseconds / total;
    }

    /// <summary>Wall time not spent inside any operator: planning, allocation, handing over outputs.</summary>
    private static TimeSpan OutsideOperators(Row r) =>
        TimeSpan.FromTicks(Math.Max(0, r.ProfileWall.Ticks - r.Profile.Values.Sum(v => v.Ticks)));

    private static Table ProfileTable(IReadOnlyList<Row> rows, string? model)
    {
        var title = "where Sparrow's time goes" + (model is null ? "" : " on " + Markup.Escape(model)) + ": ms per run (share of the run)";
        var table = new Table().Border(TableBorder.Simple).Title(title).AddColumn("op type");
        foreach (var r in rows) table.AddColumn(new TableColumn(r.Label).RightAligned());
        foreach (var (op, cells) in ProfileCells(rows)) table.AddRow(new[] { Markup.Escape(op) }.Concat(cells).ToArray());
        return table;
    }

    private static IEnumerable<(string Op, string[] Cells)> ProfileCells(IReadOnlyList<Row> rows)
    {
        var ops = ProfileOpTypes(rows);
        var shown = ops.Take(ProfileRows).ToArray();
        foreach (var op in shown)
            yield return (op, rows.Select(r => ProfileCell(r, r.Profile.GetValueOrDefault(op))).ToArray());
        if (ops.Count > shown.Length)
            yield return ("(other op types)", rows.Select(r => ProfileCell(r, TimeSpan.FromTicks(r.Profile.Where(kv => !shown.Contains(kv.Key)).Sum(kv => kv.Value.Ticks)))).ToArray());
        yield return ("(outside operators)", rows.Select(r => ProfileCell(r, OutsideOperators(r))).ToArray());
    }

    private static string ProfileCell(Row r, TimeSpan t) =>
        r.ProfileRuns == 0 ? "-" : $"{Ms(t.TotalMilliseconds / r.ProfileRuns)} ({100 * Share(r, t):0}%)";

    private static void AppendTable(StringBuilder md, string[] headers, IEnumerable<string[]> cells, int textColumns)
    {
        md.AppendLine("| " + string.Join(" | ", headers) + " |");
        md.AppendLine("|" + string.Concat(headers.Select((_, i) => i < textColumns ? "---|" : "---:|")));
        foreach (var c in cells) md.AppendLine("| " + string.Join(" | ", c) + " |");
    }

    private static string Markdown(CommandContext context, IReadOnlyList<BenchModel> models, IReadOnlyList<Row> rows, bool hasSequence, Settings settings, int threads,
        FootprintSettings footprint, EnergyMeterChoice meter)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Sparrow vs ONNX Runtime: {string.Join(", ", models.Select(m => m.Model.DisplayName))}");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `{context.CommandLine}`.");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- CPU: {MachineInfo.CpuModel}, {MachineInfo.LogicalCores} logical cores; {MachineInfo.VectorIsa}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {MachineInfo.Runtime}; ONNX Runtime {OrtModelRunner.Version} (intra-op spinning off, so that it does not take the cores while Sparrow runs)");
        md.AppendLine(CultureInfo.InvariantCulture, $"- {threads} thread(s) each; {settings.Warmup} warm-up runs of each engine{(settings.Warmup > 0 ? $" (and at least {MinimumWarmup.TotalSeconds:0} s of them)" : "")}, then {settings.Runs} timed runs alternating {(models.Count > 1 ? "every model in " : "")}Sparrow and ONNX Runtime; latency in ms, median (p25-p75)");
        if (models.Count > 1)
            md.AppendLine(CultureInfo.InvariantCulture, $"- Ratios are of median times (below 1, Sparrow is faster): against ONNX Runtime on the same model and on the first model, {models[0].Label}, the baseline");
        md.AppendLine();
        var (headers, cells) = ResultCells(rows, hasSequence, models);
        // Numbers right-aligned, the batch column included (as earlier files have it); only the model name is text.
        md.AppendLine("| " + string.Join(" | ", headers) + " |");
        md.AppendLine("|" + string.Concat(headers.Select(h => h == "model" ? "---|" : "---:|")));
        foreach (var c in cells) md.AppendLine("| " + string.Join(" | ", c) + " |");
        md.AppendLine();
        md.AppendLine(EnergyCaption(footprint, meter) + ".");
        md.AppendLine();
        var (eh, ec) = EnergyCells(rows, hasSequence, models, footprint);
        AppendTable(md, eh, ec, 0);
        if (models.Count > 1 || models[0].Weights.SessionBytes is not null || models[0].Weights.KernelChoices is not null)
        {
            md.AppendLine();
            md.AppendLine("Weight memory (initializers: as stored in the model, zeros included).");
            md.AppendLine();
            var (wh, wc) = WeightCells(models);
            AppendTable(md, wh, wc, 1);
        }
        if (settings.Profile && rows.Any(r => r.ProfileRuns > 0))
            for (var i = 0; i < models.Count; i++)
            {
                var modelRows = rows.Where(r => r.ModelIndex == i).ToArray();
                md.AppendLine();
                md.AppendLine(models.Count > 1
                    ? $"Where Sparrow's time goes on {models[i].Label}, per op type: ms per run (share of the run)."
                    : "Where Sparrow's time goes, per op type: ms per run (share of the run).");
                md.AppendLine();
                AppendTable(md, ["op type", .. modelRows.Select(r => r.Label)], ProfileCells(modelRows).Select(p => new[] { p.Op }.Concat(p.Cells).ToArray()), 1);
            }
        return md.ToString();
    }

    private static object JsonResults(CommandContext context, IReadOnlyList<BenchModel> models, IReadOnlyList<Row> rows, Settings settings, int threads,
        FootprintSettings footprint, EnergyMeterChoice meter) => new
    {
        Command = context.CommandLine,
        MeasuredUtc = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        Machine = Machine(threads),
        settings.Warmup,
        settings.Runs,
        Energy = EnergyJson.Settings(footprint, meter),
        Models = models.Select(m => new
        {
            m.Label,
            m.Model.Path,
            m.Weights.InitializerBytes,
            SessionWeightBytes = m.Weights.SessionBytes,
            m.Weights.KernelChoices,
        }),
        Results = rows.Select(r => new
        {
            r.Batch,
            r.Sequence,
            r.Model,
            SparrowMs = r.Sparrow,
            OrtMs = r.Ort,
            r.Flops,
            SparrowItemsPerSecond = r.Batch * 1000 / r.Sparrow.Median,
            OrtItemsPerSecond = r.Batch * 1000 / r.Ort.Median,
            SparrowOverOrt = r.Ratio,
            SparrowOverBaselineOrt = r.RatioToBaseline,
            ProfileMsPerRun = r.ProfileRuns == 0 ? null : r.Profile.ToDictionary(kv => kv.Key, kv => kv.Value.TotalMilliseconds / r.ProfileRuns),
            SparrowEnergy = r.SparrowEnergy is { } se ? EnergyJson.Of(se, footprint) : null,
            OrtEnergy = r.OrtEnergy is { } oe ? EnergyJson.Of(oe, footprint) : null,
        }),
    };
}
