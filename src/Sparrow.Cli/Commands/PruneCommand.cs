using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using Sparrow.Cli.Execution;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Pruning.Sensitivity;
using Spectre.Console;

namespace Sparrow.Cli.Commands;

/// <summary>
/// <c>sparrow prune MODEL.onnx --method magnitude --pattern 2:4 -o OUT.onnx</c>: sparsifies the model's
/// weights by a criterion and a pattern and writes a new model (atomically; the input is never overwritten).
/// </summary>
internal static class PruneCommand
{
    /// <summary>Above this many weight bytes, weights go to an external-data file (protobuf files stop at 2 GB).</summary>

    public static Command Create(CommandContext context)
    {
        var model = CommonOptions.ModelArgument("omitted, the embedded all-MiniLM-L6-v2");
        var method = new Option<string>("--method")
        {
            Description = "Criterion: magnitude (|w|, per layer), global-magnitude (|w|, one threshold across all targets), random (seeded baseline), "
                + "wanda (|w| times the input feature's norm on calibration data, per output), sparsegpt (inverse-Hessian masks and weight updates, layer after layer).",
            DefaultValueFactory = _ => "magnitude",
        };
        var pattern = new Option<string>("--pattern")
        {
            Description = "Mask pattern along each weight's inputs: unstructured, N:M (e.g. 2:4, 4:8; implies the sparsity 1 - N/M) or blocks RxC (outputs x inputs, e.g. 1x4, 4x4).",
            DefaultValueFactory = _ => "unstructured",
        };
        var sparsity = new Option<double?>("--sparsity") { Description = "Fraction of each target weight set to zero, from 0 to 1 (1 zeroes it all; default 0.9; N:M patterns imply theirs)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the random method.", DefaultValueFactory = _ => 0 };
        var include = new Option<string[]>("--include")
        {
            Description = "Prune only weights whose name matches this regular expression (repeat for several).",
            DefaultValueFactory = _ => [],
        };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "Leave dense the weights whose name matches this regular expression (repeat for several).",
            DefaultValueFactory = _ => [],
        };
        var opTypes = new Option<string[]>("--op-type")
        {
            Description = "Prune only weights of this operator type: MatMul, Gemm or Conv (repeat for several).",
            DefaultValueFactory = _ => [],
        };
        var layerSparsity = new Option<string[]>("--layer-sparsity")
        {
            Description = "WEIGHT=SPARSITY: this weight's own sparsity instead of --sparsity (repeat for several).",
            DefaultValueFactory = _ => [],
        };
        var calibration = new Option<string?>("--calibration")
        {
            Description = "wanda and sparsegpt: a text file of calibration sentences, one per line (default: Sparrow's built-in 64 sentences). Sentence-embedding models only.",
        };
        var recipe = new Option<string?>("--recipe")
        {
            Description = "A JSON (or .yaml/.yml) file with the whole pruning plan (method, pattern, sparsity, seed, targets, layerSparsity, calibration; see README.md) instead of the flags above.",
        };
        var embeddings = new Option<bool>("--embeddings")
        {
            Description = "Also prune the embedding tables (constant tables read by Gather), which stay dense by default; magnitude, global-magnitude and random only. --include/--exclude apply to them too.",
        };
        var compact = new Option<bool>("--compact")
        {
            Description = "Write the compact form: each weight that gets smaller that way as a standard ONNX sparse initializer (non-zeros and their indices), so the file shrinks with the sparsity (see README.md).",
        };
        var allocation = new Option<string>("--allocation")
        {
            Description = "How the sparsity is spread over the weights: uniform (each at --sparsity) or owl (wanda and sparsegpt, unstructured: outlier-weighed layerwise sparsity, "
                + "layers with more outlier Wanda scores pruned less, their parameter-weighted mean exactly --sparsity).",
            DefaultValueFactory = _ => "uniform",
        };
        var owlM = new Option<double>("--owl-m") { Description = "owl: a Wanda score is an outlier above this many times its layer's mean score.", DefaultValueFactory = _ => 5 };
        var owlLambda = new Option<double>("--owl-lambda") { Description = "owl: layer sparsities lie within --sparsity ± this.", DefaultValueFactory = _ => 0.08 };
        var owlGroup = new Option<string>("--owl-group")
        {
            Description = "owl: layer (every weight of a transformer layer shares one sparsity, as in the paper) or weight (each weight its own).",
            DefaultValueFactory = _ => "layer",
        };
        var output = new Option<string>("--output", "-o") { Description = "Path of the pruned .onnx model to write.", Required = true };
        var json = JsonOutput.Option("what was pruned (per weight, totals, output path)");
        var removeHeads = new Option<double?>("--remove-heads") { Description = "Structured: fraction of each layer's attention heads to remove physically (least important on calibration sentences), at least 0 and below 1." };
        var removeNeurons = new Option<double?>("--remove-neurons") { Description = "Structured: fraction of each layer's feed-forward neurons to remove physically, at least 0 and below 1." };
        var removeLayers = new Option<int?>("--remove-layers") { Description = "Structured: number of whole transformer layers to remove (those that change their input least)." };
        var command = new Command("prune", "Prunes a model's weights (every MatMul/Gemm/Conv weight but embeddings and the final classifier) and writes the pruned model.")
        {
            model, method, pattern, sparsity, seed, include, exclude, opTypes, layerSparsity, calibration, allocation, owlM, owlLambda, owlGroup, recipe, output, embeddings, compact,
            removeHeads, removeNeurons, removeLayers, json,
        };
        Option[] planOptions = [method, pattern, sparsity, seed, include, exclude, opTypes, layerSparsity, calibration, allocation, owlM, owlLambda, owlGroup];
        command.SetAction(parse =>
        {
            var jsonTarget = JsonOutput.Target(parse, json);
            if (parse.GetValue(removeHeads) is not null || parse.GetValue(removeNeurons) is not null || parse.GetValue(removeLayers) is not null)
            {
                // Structured removal is its own plan for now; mixing it with masks would hide which did what.
                Option[] unstructured = [method, pattern, sparsity, include, exclude, opTypes, layerSparsity, recipe, embeddings, compact, allocation, owlM, owlLambda, owlGroup];
                if (unstructured.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } mixed)
                    throw new UsageException($"{mixed.Name} cannot be combined with --remove-heads/--remove-neurons/--remove-layers; run structured pruning first, then prune its output.");
                return StructuredPruneRun.Run(context, parse.GetValue(model), new StructuredPruneRun.Request(
                    parse.GetValue(removeHeads) ?? 0, parse.GetValue(removeNeurons) ?? 0, parse.GetValue(removeLayers) ?? 0,
                    parse.GetValue(seed), parse.GetValue(calibration)), parse.GetValue(output)!, jsonTarget);
            }
            if (parse.GetValue(recipe) is { } recipePath)
            {
                // One source for the plan: a flag next to a recipe would silently win or lose, so it is an error.
                if (planOptions.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } extra)
                    throw new UsageException($"{extra.Name} cannot be combined with --recipe; the recipe holds the whole plan (put the {extra.Name} choice in {recipePath}).");
                if (parse.GetValue(embeddings))
                    throw new UsageException("--embeddings cannot be combined with --recipe (recipes have no field for it yet); use the flags.");
                return RunRecipe(context, parse.GetValue(model), recipePath, parse.GetValue(output)!, parse.GetValue(compact), jsonTarget);
            }
            // The OWL knobs only shape an OWL allocation; given without one they would be silently ignored.
            if (string.Equals(parse.GetValue(allocation)?.Trim(), "uniform", StringComparison.OrdinalIgnoreCase)
                && new Option[] { owlM, owlLambda, owlGroup }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } owlOnly)
                throw new UsageException($"{owlOnly.Name} only applies with --allocation owl.");
            return Run(context, parse.GetValue(model), new Request(parse.GetValue(method)!, parse.GetValue(pattern)!, parse.GetValue(sparsity),
                parse.GetValue(seed), parse.GetValue(include) ?? [], parse.GetValue(exclude) ?? [])
            {
                OpTypes = parse.GetValue(opTypes) ?? [],
                LayerSparsity = parse.GetValue(layerSparsity) ?? [],
                Calibration = parse.GetValue(calibration),
                Allocation = parse.GetValue(allocation)!,
                OwlM = parse.GetValue(owlM),
                OwlLambda = parse.GetValue(owlLambda),
                OwlGroup = parse.GetValue(owlGroup)!,
                Embeddings = parse.GetValue(embeddings),
                Compact = parse.GetValue(compact),
            }, parse.GetValue(output)!, jsonTarget);
        });
        return command;
    }

    /// <summary>The request a recipe stands for: exactly what the equivalent flags would give, so the same checks apply.</summary>
    internal static Request FromRecipe(PruningRecipe recipe) =>
        new(recipe.Method, recipe.Pattern, recipe.Sparsity, recipe.Seed, [.. recipe.Include], [.. recipe.Exclude])
        {
            OpTypes = [.. recipe.OpTypes],
            LayerSparsity = [.. recipe.LayerSparsity.Select(o => o.Key + "=" + o.Value.ToString("R", CultureInfo.InvariantCulture))],
            Calibration = recipe.Calibration,
            Allocation = recipe.Allocation,
        };

    /// <summary>The recipe field each flag stands for, to point an error about a flag at the recipe's line.</summary>
    private static readonly (string Option, string Field)[] RecipeFields =
    [
        ("--method", "method"), ("--pattern", "pattern"), ("--sparsity", "sparsity"), ("--seed", "seed"),
        ("--include", "targets.include"), ("--exclude", "targets.exclude"), ("--op-type", "targets.opTypes"),
        ("--layer-sparsity", "layerSparsity"), ("--calibration", "calibration"), ("--allocation", "allocation"),
    ];

    private static int RunRecipe(CommandContext context, string? modelPath, string recipePath, string outputPath, bool compact = false, string? json = null)
    {
        if (!File.Exists(recipePath)) throw new UsageException($"--recipe {recipePath}: no such file.");
        PruningRecipe recipe;
        try
        {
            recipe = PruningRecipe.Load(recipePath);
        }
        catch (PruningRecipeException e)
        {
            throw new UsageException(e.Message);
        }
        if (recipe.Structured is not null)
        {
            // Structured removal leaves dense matrices: the compact form would not shrink them, so say so instead of ignoring it.
            if (compact) throw new UsageException($"--compact does not apply to the structured plan in {recipePath}: its output keeps no zeros to drop. Prune its output with --compact instead.");
            return StructuredPruneRun.RunRecipe(context, modelPath, recipe, recipePath, outputPath, json);
        }
        try
        {
            return Run(context, modelPath, FromRecipe(recipe) with { Compact = compact }, outputPath, json, recipePath);
        }
        catch (UsageException e) when (RecipeFields.FirstOrDefault(f => e.Message.StartsWith(f.Option, StringComparison.Ordinal)) is { Option: not null } match)
        {
            // The value checks are the flags'; say where in the recipe the value came from.
            var field = match.Field;
            if (field == "layerSparsity" && e.Message.IndexOf('\'') is >= 0 and var open && e.Message.IndexOf('\'', open + 1) is > 0 and var close)
            {
                var spec = e.Message[(open + 1)..close];
                var weight = spec.LastIndexOf('=') is > 0 and var eq ? spec[..eq] : spec;
                if (recipe.LineOf("layerSparsity." + weight) is not null) field = "layerSparsity." + weight;
            }
            var line = recipe.LineOf(field);
            var where = line is { } l ? $"line {l}, field '{field}'" : $"field '{field}' (default)";
            throw new UsageException($"{recipePath}: {where}: {e.Message}");
        }
    }

    /// <summary>The pruning options as given on the command line.</summary>
    internal sealed record Request(string Method, string Pattern, double? Sparsity, int Seed, string[] Include, string[] Exclude)
    {
        public string[] OpTypes { get; init; } = [];

        /// <summary>WEIGHT=SPARSITY overrides.</summary>
        public string[] LayerSparsity { get; init; } = [];

        /// <summary>Calibration sentences for wanda and sparsegpt (null: the built-in sample).</summary>
        public string? Calibration { get; init; }

        /// <summary>uniform, or owl (outlier-weighed layerwise sparsity; wanda and sparsegpt).</summary>
        public string Allocation { get; init; } = "uniform";

        /// <summary>OWL's M (outlier threshold as a multiple of the layer's mean score).</summary>
        public double OwlM { get; init; } = 5;

        /// <summary>OWL's λ (layer sparsities within the target ± λ).</summary>
        public double OwlLambda { get; init; } = 0.08;

        /// <summary>OWL's grouping: layer or weight.</summary>
        public string OwlGroup { get; init; } = "layer";

        /// <summary>Also prune embedding tables (<see cref="TargetSelection.Embeddings"/>).</summary>
        public bool Embeddings { get; init; }

        /// <summary>Write the compact form (sparse initializers).</summary>
        public bool Compact { get; init; }
    }

    /// <summary>The methods that read calibration data, run by <see cref="CalibratedPruner"/>.</summary>
    private static readonly string[] CalibratedMethods = ["wanda", "sparsegpt"];

    private static readonly string[] KnownOpTypes = ["MatMul", "Gemm", "Conv"];

    private static readonly Dictionary<string, PruningMethod> Methods = new(StringComparer.OrdinalIgnoreCase)
    {
        ["magnitude"] = PruningMethod.Magnitude,
        ["global-magnitude"] = PruningMethod.GlobalMagnitude,
        ["random"] = PruningMethod.Random,
    };

    /// <summary>The settings the request asks for; anything the user got wrong is a UsageException naming the option.</summary>
    internal static PruneSettings ToSettings(Request request)
    {
        var calibrated = CalibratedMethods.Contains(request.Method.Trim(), StringComparer.OrdinalIgnoreCase);
        if (!Methods.TryGetValue(request.Method.Trim(), out var method) && !calibrated)
            throw new UsageException($"--method '{request.Method}' is not available; the methods are: {string.Join(", ", Methods.Keys.Concat(CalibratedMethods))}.");
        if (!calibrated && request.Calibration is not null)
            throw new UsageException($"--calibration is read by wanda and sparsegpt only, not by --method {request.Method}.");
        PruningPattern pattern;
        try
        {
            pattern = PruningPattern.Parse(request.Pattern);
        }
        catch (FormatException e)
        {
            throw new UsageException("--pattern: " + e.Message);
        }
        if (request.Sparsity is { } s && (double.IsNaN(s) || s < 0 || s > 1))
            throw new UsageException($"--sparsity must be between 0 and 1 (both included; 1 prunes every targeted weight), got {s.ToString(CultureInfo.InvariantCulture)}.");
        if (request.Sparsity is { } given && pattern.ImpliedSparsity is { } implied && Math.Abs(given - implied) > 1e-9)
            throw new UsageException($"--sparsity {given.ToString(CultureInfo.InvariantCulture)} contradicts --pattern {pattern}, which prunes exactly {implied.ToString(CultureInfo.InvariantCulture)}; leave --sparsity out.");
        if (method == PruningMethod.GlobalMagnitude && pattern.Kind == PatternKind.NM)
            throw new UsageException($"--method global-magnitude cannot apply to --pattern {pattern}: every group of {pattern.M} keeps {pattern.N} in any case; use --method magnitude.");
        foreach (var (option, patterns) in new[] { ("--include", request.Include), ("--exclude", request.Exclude) })
            foreach (var p in patterns)
            {
                try
                {
                    _ = new Regex(p, RegexOptions.CultureInvariant);
                }
                catch (ArgumentException e)
                {
                    throw new UsageException($"{option} '{p}' is not a valid regular expression: {e.Message}");
                }
            }
        foreach (var op in request.OpTypes)
            if (!KnownOpTypes.Contains(op, StringComparer.OrdinalIgnoreCase))
                throw new UsageException($"--op-type '{op}' is not an operator Sparrow prunes; use one of: {string.Join(", ", KnownOpTypes)}.");
        var overrides = new Dictionary<string, double>();
        foreach (var spec in request.LayerSparsity)
        {
            var eq = spec.LastIndexOf('=');
            if (eq <= 0 || !double.TryParse(spec[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                throw new UsageException($"--layer-sparsity '{spec}': expected WEIGHT=SPARSITY, e.g. 927=0.5.");
            if (double.IsNaN(value) || value < 0 || value > 1)
                throw new UsageException($"--layer-sparsity '{spec}': the sparsity must be between 0 and 1 (both included; 1 zeroes the whole weight).");
            if (pattern.Kind == PatternKind.NM)
                throw new UsageException($"--layer-sparsity '{spec}': --pattern {pattern} fixes every layer's sparsity at {pattern.ImpliedSparsity!.Value.ToString(CultureInfo.InvariantCulture)}.");
            if (!overrides.TryAdd(spec[..eq], value))
                throw new UsageException($"--layer-sparsity {spec[..eq]} is given twice.");
        }
        _ = OwlOptionsOf(request, calibrated, pattern, overrides.Count > 0); // checked here so a bad OWL request fails before any work
        return new PruneSettings
        {
            Method = method,
            Pattern = pattern,
            Sparsity = request.Sparsity ?? pattern.ImpliedSparsity ?? 0.9,
            Seed = request.Seed,
            Targets = new TargetSelection { Include = request.Include, Exclude = request.Exclude, OpTypes = request.OpTypes, Embeddings = request.Embeddings },
            LayerSparsity = overrides,
        };
    }

    /// <summary>The OWL options the request asks for (null: uniform), checked.</summary>
    internal static OwlOptions? OwlOptionsOf(Request request, bool calibrated, PruningPattern pattern, bool hasOverrides)
    {
        var allocation = request.Allocation.Trim().ToLowerInvariant();
        if (allocation == "uniform") return null;
        if (allocation != "owl") throw new UsageException($"--allocation '{request.Allocation}' is not available; use uniform or owl.");
        if (!calibrated) throw new UsageException($"--allocation owl reads Wanda scores from calibration data: use --method wanda or sparsegpt, not {request.Method}.");
        if (pattern.Kind != PatternKind.Unstructured) throw new UsageException($"--allocation owl sets a sparsity per layer; --pattern {pattern} fixes its own. Use --pattern unstructured.");
        if (hasOverrides) throw new UsageException("--layer-sparsity cannot be combined with --allocation owl, which sets every layer's sparsity.");
        if (request.Sparsity is >= 1)
            throw new UsageException($"--allocation owl spreads --sparsity over the layers and needs it below 1; got {request.Sparsity.Value.ToString(CultureInfo.InvariantCulture)}.");
        if (!(request.OwlM > 0) || double.IsInfinity(request.OwlM)) throw new UsageException($"--owl-m must be above 0; got {request.OwlM.ToString(CultureInfo.InvariantCulture)}.");
        if (!(request.OwlLambda >= 0 && request.OwlLambda < 1)) throw new UsageException($"--owl-lambda must be at least 0 and below 1; got {request.OwlLambda.ToString(CultureInfo.InvariantCulture)}.");
        var grouping = request.OwlGroup.Trim().ToLowerInvariant() switch
        {
            "layer" => OwlGrouping.Layer,
            "weight" => OwlGrouping.Weight,
            _ => throw new UsageException($"--owl-group '{request.OwlGroup}' is not available; use layer or weight."),
        };
        return new OwlOptions { OutlierThreshold = request.OwlM, Lambda = request.OwlLambda, Grouping = grouping };
    }

    internal static int Run(CommandContext context, string? modelPath, Request request, string outputPath, string? json = null, string? recipePath = null)
    {
        var settings = ToSettings(request);
        PruneFiles.RefuseInputAsOutput(modelPath, outputPath);
        var console = context.Console;
        var loaded = LoadedModel.Load(modelPath);
        Model pruned;
        IReadOnlyList<LayerSparsity> layers;
        try
        {
            (pruned, layers) = request.Method.Trim().ToLowerInvariant() switch
            {
                "wanda" => PruneWanda(context, loaded, settings, request),
                "sparsegpt" => PruneSparseGpt(context, loaded, settings, request),
                _ => context.Progress("Pruning", Pruner.SelectTargets(loaded.Model.Graph, settings).Count,
                    step => Pruner.Prune(loaded.Model, settings, step.AsCallback())),
            };
        }
        catch (PruningRequestException e)
        {
            throw new UsageException($"{loaded.DisplayName}: {e.Message}");
        }
        if (layers.Count == 0)
            throw new UsageException($"{loaded.DisplayName} has no weights to prune (constant 2-D MatMul/Gemm weights or Conv weights, other than embeddings and the final classifier"
                + (request.Include.Length + request.Exclude.Length + request.OpTypes.Length > 0 ? ", that --include/--exclude/--op-type select" : "") + ").");

        var methodName = CalibratedMethods.FirstOrDefault(m => string.Equals(m, request.Method.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? Methods.First(kv => kv.Value == settings.Method).Key;
        var global = settings.Method == PruningMethod.GlobalMagnitude && methodName == "global-magnitude";
        var title = global
            ? $"{methodName} pruning, {settings.Pattern}, to {settings.Sparsity:P1} of all targets together"
            : $"{methodName} pruning, {settings.Pattern}, to {settings.Sparsity:P1} per layer";

        PruningRecord.Of(methodName, settings.Pattern.ToString(), layers).WriteTo(pruned);
        var external = context.Progress("Writing the model", 1, step =>
        {
            var e = PruneFiles.Save(pruned, outputPath, request.Compact);
            step.Advance();
            return e;
        });

        var total = layers.Sum(l => l.Parameters);
        var zeros = layers.Sum(l => l.Zeros);
        var all = ParameterGroups.Total(pruned.Graph);
        var results = new
        {
            command = context.CommandLine,
            model = loaded.DisplayName,
            output = outputPath,
            externalData = external,
            compact = request.Compact,
            outputBytes = new FileInfo(outputPath).Length,
            recipe = recipePath,
            method = methodName,
            pattern = settings.Pattern.ToString(),
            sparsity = settings.Sparsity,
            scope = global ? "global" : "layer",
            allocation = request.Allocation.Trim().ToLowerInvariant(),
            seed = settings.Seed,
            layers = layers.Select(l => new
            {
                weight = l.WeightName,
                opType = l.OpType,
                shape = l.Shape,
                parameters = l.Parameters,
                zeros = l.Zeros,
                targetSparsity = l.TargetSparsity,
                achievedSparsity = l.Sparsity,
            }),
            totals = new
            {
                weights = layers.Count,
                parameters = total,
                zeros,
                sparsity = (double)zeros / total,
                modelParameters = all,
                modelSparsity = all == 0 ? 0 : (double)zeros / all,
            },
        };
        JsonOutput.Write(context, json, results, () =>
        {
            var table = new Table().Border(TableBorder.Simple).Title(Markup.Escape(title))
                .AddColumn("weight").AddColumn("op").AddColumn("shape").AddColumn(new TableColumn("parameters").RightAligned())
                .AddColumn(new TableColumn("target").RightAligned()).AddColumn(new TableColumn("achieved").RightAligned());
            foreach (var l in layers)
                table.AddRow(Markup.Escape(l.WeightName), l.OpType, Markup.Escape("[" + string.Join("x", l.Shape) + "]"), CommonOptions.FormatCount(l.Parameters),
                    l.TargetSparsity is { } t ? t.ToString("P1", CultureInfo.InvariantCulture) : "global", l.Sparsity.ToString("P1", CultureInfo.InvariantCulture));
            console.Write(table);
            console.MarkupLine($"Pruned {layers.Count} weights: {CommonOptions.FormatCount(zeros)} of {CommonOptions.FormatCount(total)} set to zero " +
                $"({(double)zeros / total:P1} of them, {(double)zeros / all:P1} of all parameters).");
            console.MarkupLine($"Wrote [bold]{Markup.Escape(outputPath)}[/]" + (external is null ? "" : $" with weights in {Markup.Escape(external)}")
                + (request.Compact ? $" in the compact form ({CompactCommand.DescribeSize(outputPath)})." : "."));
        });
        return ExitCodes.Success;
    }

    /// <summary>Wanda: a bar for the calibration run (one step per batch of sentences), then one for the masks.</summary>
    private static (Model, IReadOnlyList<LayerSparsity>) PruneWanda(CommandContext context, LoadedModel loaded, PruneSettings settings, Request request)
    {
        var owl = OwlOptionsOf(request, calibrated: true, settings.Pattern, hasOverrides: false);
        var batches = CalibrationBatches(loaded, request);
        var count = (PruneFiles.CalibrationSentences(request.Calibration).Count + CalibrationBatchSize - 1) / CalibrationBatchSize;
        if (owl is null) return context.Progress("wanda: calibrating", count, step => CalibratedPruner.Wanda(loaded.Model, settings, Counted(batches, step)));
        // OWL reads the same statistics as Wanda's masks: one calibration run for both.
        var targets = CalibratedPruner.WandaTargets(loaded.Model, settings);
        var statistics = context.Progress("wanda: calibrating", count, step => Sparrow.Pruning.Calibration.Calibrator.Run(loaded.Model, targets, Counted(batches, step)));
        settings = WithOwl(context, loaded, settings, statistics, owl);
        return Pruner.Prune(loaded.Model, CalibratedPruner.WithWandaCriterion(settings, statistics));
    }

    /// <summary>SparseGPT, after an OWL allocation from the dense model's Wanda scores when asked for.</summary>
    private static (Model, IReadOnlyList<LayerSparsity>) PruneSparseGpt(CommandContext context, LoadedModel loaded, PruneSettings settings, Request request)
    {
        if (OwlOptionsOf(request, calibrated: true, settings.Pattern, hasOverrides: false) is { } owl)
        {
            var targets = CalibratedPruner.WandaTargets(loaded.Model, settings);
            var count = (PruneFiles.CalibrationSentences(request.Calibration).Count + CalibrationBatchSize - 1) / CalibrationBatchSize;
            var statistics = context.Progress("owl: calibrating", count,
                step => Sparrow.Pruning.Calibration.Calibrator.Run(loaded.Model, targets, Counted(CalibrationBatches(loaded, request), step)));
            settings = WithOwl(context, loaded, settings, statistics, owl);
        }
        return context.Progress("sparsegpt: calibrating and pruning, group by group", SparseGptGroups(loaded, settings),
            step => CalibratedPruner.SparseGpt(loaded.Model, settings, () => CalibrationBatches(loaded, request), step.AsCallback()));
    }

    /// <summary>The settings with OWL's per-layer sparsities; the groups' outlier ratios and sparsities go to the detail output.</summary>
    private static PruneSettings WithOwl(CommandContext context, LoadedModel loaded, PruneSettings settings,
        IReadOnlyDictionary<string, Sparrow.Pruning.Calibration.LayerInputStatistics> statistics, OwlOptions owl)
    {
        var plan = OwlAllocator.FromCalibration(loaded.Model, settings, statistics, owl);
        for (var g = 0; g < plan.Groups.Count; g++)
            context.Detail($"owl: {Markup.Escape(plan.Groups[g].Name)}: outlier ratio {plan.Groups[g].OutlierRatio.ToString("P3", CultureInfo.InvariantCulture)}, sparsity {plan.GroupSparsities[g].ToString("P2", CultureInfo.InvariantCulture)}");
        return settings with { LayerSparsity = plan.Sparsities.ToDictionary(kv => kv.Key, kv => kv.Value) };
    }

    /// <summary>The sentences per calibration batch (CalibrationSentences.Batches' default).</summary>
    private const int CalibrationBatchSize = 16;

    /// <summary>The same batches, advancing <paramref name="step"/> as the consumer asks for the next one.</summary>
    private static IEnumerable<T> Counted<T>(IEnumerable<T> items, ProgressStep step)
    {
        var first = true;
        foreach (var item in items)
        {
            if (!first) step.Advance();
            first = false;
            yield return item;
        }
        if (!first) step.Advance();
    }

    /// <summary>SparseGPT prunes the targets that read the same input together: that many steps.</summary>
    private static int SparseGptGroups(LoadedModel loaded, PruneSettings settings)
    {
        try
        {
            return CalibratedPruner.WandaTargets(loaded.Model, settings).Select(t => t.Node.Inputs[0]).Distinct().Count();
        }
        catch (PruningRequestException)
        {
            return 0; // SparseGpt itself reports the problem
        }
    }

    /// <summary>
    /// The calibration inputs of wanda and sparsegpt: sentences tokenized for a sentence-embedding model (one
    /// that takes input_ids); other models would need their own data, which the command line does not take yet.
    /// </summary>
    private static IEnumerable<IReadOnlyDictionary<string, Sparrow.Tensors.Tensor>> CalibrationBatches(LoadedModel loaded, Request request)
    {
        var inputs = loaded.Model.Graph.Inputs.Select(i => i.Name).ToArray();
        if (!inputs.Contains("input_ids"))
            throw new UsageException($"--method {request.Method} needs calibration data; from the command line Sparrow calibrates sentence-embedding models " +
                $"(an input named input_ids), and {loaded.DisplayName} takes {string.Join(", ", inputs)}.");
        var sentences = PruneFiles.CalibrationSentences(request.Calibration);
        return Sparrow.Pruning.Calibration.CalibrationSentences.Batches(sentences, CalibrationBatchSize, inputNames: inputs);
    }
}
