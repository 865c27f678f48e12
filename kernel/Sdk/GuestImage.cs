namespace HekiGuest.Sdk
{
    /// <summary>
    /// What <see cref="GuestHardening"/> protects: the guest's code, its sealed section and its
    /// read-only data as virtual ranges [start, end) (translated through the guest's page tables,
    /// so the guest need not be identity-mapped), and its usable RAM as guest-physical regions.
    /// Every RAM page that backs none of the three sections becomes R+W, never executable.
    /// </summary>
    public unsafe struct GuestImage
    {
        public ulong TextStart, TextEnd;
        public ulong SealedStart, SealedEnd;
        public ulong RodataStart, RodataEnd;
        public PhysicalRegion* Ram;
        public int RamCount;
    }
}
