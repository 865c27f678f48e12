using HekiGuest.Abi;
using HekiGuest.Platform;

namespace HekiGuest.Vtl1Monitor;

// The lock-registers call: VTL0's CR0/CR4 bits the kernel asked to pin keep the values they had
// at the lock. The host intercepts every VTL0 write that changes a masked bit (docs/vtl.md
// section 12); the monitor allows it only when the masked bits equal the saved ones (then it
// performs the write with SetVpRegisters and skips the instruction), else it refuses with #GP(0).
public static class RegisterLock
{
    public static bool Locked;
    private static ulong s_cr0Mask, s_cr0Pinned, s_cr4Mask, s_cr4Pinned;

    public static long Lock(ulong cr0Mask, ulong cr4Mask)
    {
        if (Locked) return MonitorStatus.AlreadyDone;
        if ((cr0Mask & ~MonitorAbi.LockableCr0) != 0 || (cr4Mask & ~MonitorAbi.LockableCr4) != 0 || (cr0Mask | cr4Mask) == 0)
            return MonitorStatus.InvalidArgument;
        const byte Vtl0 = HvInputVtl.UseTargetVtl | 0;
        if (HvClient.GetRegister(Vtl0, HvRegister.Cr0, out ulong cr0) != HvStatus.Success
            || HvClient.GetRegister(Vtl0, HvRegister.Cr4, out ulong cr4) != HvStatus.Success)
            return MonitorStatus.InvalidArgument;
        s_cr0Mask = cr0Mask; s_cr0Pinned = cr0 & cr0Mask;
        s_cr4Mask = cr4Mask; s_cr4Pinned = cr4 & cr4Mask;
        ulong control = (cr0Mask != 0 ? HvCrIntercept.Cr0Write : 0) | (cr4Mask != 0 ? HvCrIntercept.Cr4Write : 0);
        if (HvClient.SetRegister(0, HvRegister.CrInterceptCr0Mask, cr0Mask) != HvStatus.Success
            || HvClient.SetRegister(0, HvRegister.CrInterceptCr4Mask, cr4Mask) != HvStatus.Success
            || HvClient.SetRegister(0, HvRegister.CrInterceptControl, control) != HvStatus.Success)
            MonitorMain.Stop("the host refused the CR intercept registers", control);
        Locked = true;
        Machine.Console.Write("registers locked: CR0 ").Hex(s_cr0Pinned).Write(" under mask ").Hex(cr0Mask)
            .Write(", CR4 ").Hex(s_cr4Pinned).Write(" under mask ").Hex(cr4Mask).Line();
        return MonitorStatus.Success;
    }

    /// <summary>True when <paramref name="value"/> keeps the bits pinned in CR0 or CR4
    /// (<paramref name="register"/>); every value does before the lock.</summary>
    public static bool KeepsPinned(uint register, ulong value)
    {
        ulong mask = register == HvRegister.Cr0 ? s_cr0Mask : s_cr4Mask;
        ulong pinned = register == HvRegister.Cr0 ? s_cr0Pinned : s_cr4Pinned;
        return (value & mask) == pinned;
    }

    /// <summary>A VTL0 write of CR0 or CR4 the host intercepted: true when it was performed.</summary>
    public static bool TryAllow(uint register, ulong value, ulong rip, byte instructionLength)
    {
        ulong mask = register == HvRegister.Cr0 ? s_cr0Mask : register == HvRegister.Cr4 ? s_cr4Mask : 0;
        ulong pinned = register == HvRegister.Cr0 ? s_cr0Pinned : s_cr4Pinned;
        if (mask == 0 || (value & mask) != pinned || instructionLength == 0) return false;
        const byte Vtl0 = HvInputVtl.UseTargetVtl | 0;
        return HvClient.SetRegister(Vtl0, register, value) == HvStatus.Success
            && HvClient.SetRegister(Vtl0, HvRegister.Rip, rip + instructionLength) == HvStatus.Success;
    }
}
