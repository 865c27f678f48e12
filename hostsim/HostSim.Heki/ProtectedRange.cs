namespace HekiGuest.HostSim.Heki;

/// <summary>One accepted PROTECT_MEMORY entry: guest-physical start, pages, HekiPermission bits.</summary>
public readonly record struct ProtectedRange(ulong Gpa, ulong Pages, ulong Permissions);
