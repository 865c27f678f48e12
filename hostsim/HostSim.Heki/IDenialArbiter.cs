namespace HekiGuest.HostSim.Heki;

/// <summary>
/// Host userspace decides, per denial, what happens next (a per-kind table, or asking a control
/// client and waiting for its verdict). Called on the VM thread after the denial event was
/// emitted, in the middle of the refused instruction; the refusal itself (#GP, #PF, the error
/// code) stands whatever it answers.
/// </summary>
public interface IDenialArbiter
{
    DenialPolicy Decide(DenialEvent denial);
}
