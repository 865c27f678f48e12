namespace HekiGuest.Vtl1Monitor;

// What the monitor accepts as a VTL0 pointer: a range wholly inside VTL0's RAM ([0, the RAM end
// the kernel gave at init)) and wholly outside the monitor's own memory. The monitor reads or
// writes through a VTL0 address only after this check (its paging identity-maps the first 4 GiB).
public static class Vtl0Memory
{
    public static ulong RamEnd;
    public static ulong MonitorStart, MonitorEnd;

    public static bool Contains(ulong gpa, ulong length)
    {
        if (length == 0 || gpa + length < gpa) return false;
        ulong end = gpa + length;
        if (end > RamEnd) return false;
        return end <= MonitorStart || gpa >= MonitorEnd;
    }
}
