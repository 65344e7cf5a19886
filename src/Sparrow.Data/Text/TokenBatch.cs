using Sparrow.Tensors;

namespace Sparrow.Data.Text;

/// <summary>
/// Token ids of several texts padded to one length, as BERT-family encoders take them: int64 tensors of
/// shape [batch, seq]. Padding positions hold the padding id and a zero attention mask.
/// </summary>
public sealed class TokenBatch : IDisposable
{
    public const string InputIdsName = "input_ids";
    public const string AttentionMaskName = "attention_mask";
    public const string TokenTypeIdsName = "token_type_ids";

    internal TokenBatch(Tensor<long> inputIds, Tensor<long> attentionMask, Tensor<long> tokenTypeIds, int[] lengths)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
        Lengths = lengths;
    }

    public Tensor<long> InputIds { get; }

    public Tensor<long> AttentionMask { get; }

    /// <summary>All zeros: every text is a single segment.</summary>
    public Tensor<long> TokenTypeIds { get; }

    /// <summary>Tokens per text, [CLS] and [SEP] included, before padding.</summary>
    public IReadOnlyList<int> Lengths { get; }

    public int BatchSize => InputIds.Shape[0];

    public int SequenceLength => InputIds.Shape[1];

    /// <summary>The three tensors by their usual input names, limited to <paramref name="inputNames"/> when given.</summary>
    public IReadOnlyDictionary<string, Tensor> ToInputs(IEnumerable<string>? inputNames = null)
    {
        var all = new Dictionary<string, Tensor>
        {
            [InputIdsName] = InputIds,
            [AttentionMaskName] = AttentionMask,
            [TokenTypeIdsName] = TokenTypeIds,
        };
        if (inputNames is null) return all;
        var wanted = inputNames.ToHashSet();
        return all.Where(kv => wanted.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        TokenTypeIds.Dispose();
    }
}
