using Sparrow.Data.Text;
using Sparrow.Graph;

namespace Sparrow.Pruning.Structured;

/// <summary>
/// Structured pruning of a BERT-style transformer encoder (e.g. the embedded MiniLM): ranks attention heads,
/// feed-forward neurons and layers (<see cref="StructuredImportance"/>, or at random), removes the least important
/// ones physically (<see cref="StructuredRemoval"/>) and says what it removed. All scores are measured once on the
/// model as given (one shot): heads and neurons are not re-ranked after layers are removed.
/// Works on a copy; the model passed in is not changed.
/// </summary>
public static class StructuredPruner
{
    /// <summary>Ranks and removes heads, neurons and layers of a copy of <paramref name="model"/> as <paramref name="settings"/> say; returns it with what was removed.</summary>
    /// <exception cref="PruningRequestException">The model is not a recognised encoder, or the fractions or layer count are out of range.</exception>
    /// <param name="progress">Told (steps done, steps) while importance is measured on the calibration sentences, for a progress bar.</param>
    public static (Model Pruned, StructuredPruneReport Report) Prune(Model model, StructuredPruneSettings settings, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Check();
        var structure = EncoderStructure.Find(model.Graph);
        var layers = structure.Layers;
        if (settings.LayersToRemove >= layers.Count)
            throw new PruningRequestException($"LayersToRemove {settings.LayersToRemove}: the model has {layers.Count} layers; at least one must stay.");
        var headCounts = layers.Select(l => RemovedCount(settings.HeadFraction, l.Attention.Heads)).ToArray();
        var neuronCounts = layers.Select(l => RemovedCount(settings.NeuronFraction, l.FeedForward.Intermediate)).ToArray();
        bool rankHeads = headCounts.Any(c => c > 0), rankNeurons = neuronCounts.Any(c => c > 0), rankLayers = settings.LayersToRemove > 0;

        float[][]? headScores = null, neuronScores = null;
        double[]? layerScores = null;
        if (settings.Criterion == StructuredCriterion.Random)
        {
            var random = new Random(settings.Seed);
            if (rankHeads) headScores = layers.Select(l => RandomScores(random, l.Attention.Heads)).ToArray();
            if (rankNeurons) neuronScores = layers.Select(l => RandomScores(random, l.FeedForward.Intermediate)).ToArray();
            if (rankLayers) layerScores = RandomScores(random, layers.Count).Select(s => (double)s).ToArray();
        }
        else if (rankHeads || rankNeurons || rankLayers)
        {
            var batches = Tokenize(model, settings);
            try
            {
                // Head scoring: one step per layer and batch; activations: one per batch.
                var headSteps = rankHeads ? batches.Count * layers.Count : 0;
                var steps = headSteps + (rankNeurons || rankLayers ? batches.Count : 0);
                if (rankHeads) headScores = StructuredImportance.Heads(model, batches, settings.IntraOpThreads, progress is null ? null : (done, _) => progress(done, steps));
                if (rankNeurons || rankLayers)
                {
                    var (neurons, turns) = StructuredImportance.Activations(model, batches, settings.IntraOpThreads,
                        progress is null ? null : (done, _) => progress(headSteps + done, steps));
                    if (rankNeurons) neuronScores = neurons;
                    if (rankLayers) layerScores = turns;
                }
            }
            finally
            {
                foreach (var b in batches) b.Dispose();
            }
        }

        var tieBreak = new Random(unchecked(settings.Seed * 7919 + 17));
        var removedLayers = layerScores is null ? [] : Lowest(layerScores.Select(s => (float)s).ToArray(), settings.LayersToRemove, tieBreak);
        var heads = new Dictionary<int, IReadOnlyList<int>>();
        var neuronPlan = new Dictionary<int, IReadOnlyList<int>>();
        foreach (var layer in layers)
        {
            if (removedLayers.Contains(layer.Index)) continue;
            if (headScores is not null && headCounts[layer.Index] > 0) heads[layer.Index] = Lowest(headScores[layer.Index], headCounts[layer.Index], tieBreak);
            if (neuronScores is not null && neuronCounts[layer.Index] > 0) neuronPlan[layer.Index] = Lowest(neuronScores[layer.Index], neuronCounts[layer.Index], tieBreak);
        }
        var plan = new StructuredPlan { Heads = heads, Neurons = neuronPlan, Layers = removedLayers };
        var pruned = StructuredRemoval.Apply(model, plan);

        var report = new StructuredPruneReport(plan,
            layers.Select(l =>
            {
                var removed = removedLayers.Contains(l.Index);
                var goneHeads = heads.GetValueOrDefault(l.Index) ?? [];
                var goneNeurons = neuronPlan.GetValueOrDefault(l.Index)?.Count ?? 0;
                return new StructuredLayerReport(l.Index, removed, l.Attention.Heads, removed ? 0 : l.Attention.Heads - goneHeads.Count, goneHeads,
                    l.FeedForward.Intermediate, removed ? 0 : l.FeedForward.Intermediate - goneNeurons)
                {
                    Importance = layerScores?[l.Index],
                };
            }).ToArray(),
            model.Graph.ParameterCount, pruned.Graph.ParameterCount)
        {
            HeadImportance = headScores,
            NeuronImportance = neuronScores,
            LayerImportance = layerScores,
        };
        StructuredPruningRecord.Of(settings, report).WriteTo(pruned);
        return (pruned, report);
    }

    /// <summary>How many of <paramref name="available"/> a fraction removes: rounded down, never all.</summary>
    public static int RemovedCount(double fraction, int available) =>
        Math.Min(available - 1, (int)Math.Floor(fraction * available + 1e-9));

    /// <summary>The indices of the <paramref name="count"/> lowest scores, ascending; equal scores in a seeded random order.</summary>
    private static int[] Lowest(float[] scores, int count, Random tieBreak)
    {
        var keys = scores.Select(_ => tieBreak.Next()).ToArray();
        return Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ThenBy(i => keys[i]).Take(count).Order().ToArray();
    }

    private static float[] RandomScores(Random random, int count) => Enumerable.Range(0, count).Select(_ => random.NextSingle()).ToArray();

    private static List<TokenBatch> Tokenize(Model model, StructuredPruneSettings settings)
    {
        var known = new[] { TokenBatch.InputIdsName, TokenBatch.AttentionMaskName, TokenBatch.TokenTypeIdsName };
        var required = model.Graph.RequiredInputs.Select(i => i.Name).ToArray();
        if (!required.Contains(TokenBatch.InputIdsName) || required.Any(r => !known.Contains(r)))
            throw new PruningRequestException($"Structured pruning measures importance on sentences, for models whose inputs are {string.Join(", ", known)}; this one takes {string.Join(", ", required)}. Use the random criterion or give a plan to StructuredRemoval.");
        var sentences = settings.CalibrationSentences ?? Calibration.CalibrationSentences.Sample;
        var tokenizer = SentenceTokenizer.Default;
        return sentences.Chunk(settings.BatchSize).Select(chunk => tokenizer.EncodeBatch(chunk, settings.MaxSequenceLength)).ToList();
    }
}
