namespace HekiGuest.HostSim.Gdb;

/// <summary>gdb's watchpoint kinds (Z2, Z3, Z4) and how a stop reply names them.</summary>
public enum WatchKind
{
    Write = 2,
    Read = 3,
    Access = 4,
}
