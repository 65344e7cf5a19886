using Sparrow.Data.Text;

namespace Sparrow.Training.Tests;

public class CharCorpusTests
{
    [Fact]
    public void Split_is_deterministic_and_holds_out_every_tenth_block()
    {
        var text = string.Concat(Enumerable.Range(0, 1000).Select(i => (char)('a' + i % 7)));
        var a = new CharCorpus(text, heldOutEvery: 10, blockSize: 16);
        var b = new CharCorpus(text, heldOutEvery: 10, blockSize: 16);
        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.HeldOut, b.HeldOut);
        Assert.Equal(text.Length, a.Train.Length + a.HeldOut.Length);
        Assert.Equal(6 * 16, a.HeldOut.Length); // blocks 9, 19, ..., 59 of the 63 (block 62 is 8 long and trains)
        Assert.Equal(text.Substring(9 * 16, 16), a.Decode(a.HeldOut.Take(16)));
        Assert.Equal("abcdefg", string.Concat(a.Vocabulary));
        Assert.Equal(text[..50], a.Decode(a.Encode(text[..50])));
        Assert.Throws<ArgumentException>(() => a.Encode("z"));
    }

    [Fact]
    public void Verse_references_are_removed()
    {
        var text = "Ge1:1 In the beginning God created the heaven and the earth.\n\n1Co13:4 Charity suffereth long, and is kind;\r\nRev22:21 The grace of our Lord Jesus Christ be with you all. Amen.\n";
        Assert.Equal("In the beginning God created the heaven and the earth.\nCharity suffereth long, and is kind;\nThe grace of our Lord Jesus Christ be with you all. Amen.\n",
            CharCorpus.StripVerseReferences(text));
    }
}
