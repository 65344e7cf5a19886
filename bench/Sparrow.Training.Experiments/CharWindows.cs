using Sparrow.Tensors;
using Sparrow.Training.Data;

namespace Sparrow.Training.Experiments;

/// <summary>Random training windows of a character corpus, shared by the character-GPT experiments.</summary>
internal static class CharWindows
{
    /// <summary><paramref name="batch"/> windows of <paramref name="context"/> ids at random starts, and each position's next id.</summary>
    public static (Tensor<long> Ids, int[] Targets) Sample(int[] text, int batch, int context, Xoshiro256 random)
    {
        var ids = new long[batch * context];
        var targets = new int[batch * context];
        for (var b = 0; b < batch; b++)
        {
            var start = random.Next(text.Length - context - 1);
            for (var t = 0; t < context; t++)
            {
                ids[b * context + t] = text[start + t];
                targets[b * context + t] = text[start + t + 1];
            }
        }
        return (Tensor<long>.FromArray(ids, [batch, context]), targets);
    }
}
