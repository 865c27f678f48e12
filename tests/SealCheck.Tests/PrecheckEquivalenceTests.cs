using HekiGuest.Tools.SealCheck.Analysis;
using HekiGuest.Elf;

namespace HekiGuest.Tools.SealCheck.Tests;

/// <summary>
/// The every-offset scan skips the Iced decode where the exact pre-check says no class member can
/// start. These tests decode literally every offset too and demand identical findings, on random
/// bytes (full of hidden encodings) in 64-bit and 32-bit ranges.
/// </summary>
public class PrecheckEquivalenceTests
{
    public static TheoryData<int, bool> Seeds() => new() { { 1, true }, { 2, true }, { 3, false }, { 4, false } };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void PrecheckedScanFindsExactlyWhatTheFullDecodeFinds(int seed, bool otherBitness)
    {
        var random = new Random(seed);
        var text = new byte[10 * 1024];
        var boot = new byte[2 * 1024];
        Fill(text, random);
        Fill(boot, random);
        var kernel = new TestKernel { Text64 = a => a.nop(), TextTail = text, Boot32 = a => a.db(boot) };
        ElfImage elf = ElfImage.Parse(kernel.Build());

        VerificationReport prechecked = KernelVerifier.Verify(elf, new VerifierOptions(otherBitness, FullDecode: false));
        VerificationReport full = KernelVerifier.Verify(elf, new VerifierOptions(otherBitness, FullDecode: true));

        Assert.True(full.Violations.Count > 20, $"random bytes should hide many encodings, found {full.Violations.Count}");
        Assert.Equal(full.Violations.Select(v => v.Message), prechecked.Violations.Select(v => v.Message));
        Assert.True(prechecked.GadgetDecodes * 4 < full.GadgetDecodes, $"{prechecked.GadgetDecodes} vs {full.GadgetDecodes}");
    }

    /// <summary>Half uniform bytes, half bytes that make up class encodings and their prefixes.</summary>
    private static void Fill(byte[] bytes, Random random)
    {
        byte[] interesting = [0x0F, 0x0F, 0x0F, 0x22, 0x30, 0x01, 0x00, 0x06, 0xC7, 0xD1, 0xC6, 0x18, 0x10, 0xD8, 0xE0, 0x66, 0x67, 0xF3, 0xF0, 0x2E, 0x48, 0x41, 0x44];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = random.Next(2) == 0 ? (byte)random.Next(256) : interesting[random.Next(interesting.Length)];
        }
    }

    [Fact]
    public void ClassIsLegacyMap0FSoThePrecheckApplies() => Assert.True(SealedInstructionClass.AllLegacyMap0F);

    [Theory]
    [InlineData(new byte[] { 0x0F, 0x30 }, 64, true)]
    [InlineData(new byte[] { 0x66, 0xF3, 0x48, 0x0F }, 64, true)]
    [InlineData(new byte[] { 0x48, 0x0F }, 32, false)]
    [InlineData(new byte[] { 0x90, 0x0F }, 64, false)]
    [InlineData(new byte[] { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x0F, 0x30 }, 64, false)]
    [InlineData(new byte[] { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x0F, 0x30 }, 64, true)]
    public void PrecheckAcceptsPrefixesThen0FOnly(byte[] bytes, int bitness, bool expected) =>
        Assert.Equal(expected, EncodingPrecheck.CanStartSealedInstruction(bytes, 0, bitness));
}
