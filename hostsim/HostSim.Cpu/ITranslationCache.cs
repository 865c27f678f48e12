namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Optional companion of <see cref="IAddressTranslator"/>: told when the guest invalidates
/// translations (INVLPG, CR3/CR4/CR0 writes), so a page-walk cache in the machine stays coherent.
/// </summary>
public interface ITranslationCache
{
    void InvalidatePage(ulong linear);

    void InvalidateAll();
}
