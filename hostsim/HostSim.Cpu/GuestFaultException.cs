namespace HekiGuest.HostSim.Cpu;

/// <summary>Internal unwinding from deep inside an instruction to the run loop; never escapes the core.</summary>
internal sealed class GuestFaultException : Exception
{
    public GuestFault Fault;
    public bool IsSoftwareInterrupt;
    public bool IsTrap;

    public GuestFaultException() : base("guest fault")
    {
    }
}
