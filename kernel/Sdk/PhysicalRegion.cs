namespace HekiGuest.Sdk
{
    /// <summary>A guest-physical byte range [Start, End) of usable RAM.</summary>
    public struct PhysicalRegion
    {
        public ulong Start;
        public ulong End;
    }
}
