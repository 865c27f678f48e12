namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The x87 FPU state the core keeps (Intel SDM vol. 1, 8.1): control, status and tag words
/// (<see cref="FpuControl"/>, <see cref="FpuStatus"/>, <see cref="FpuTagAbridged"/>), the last
/// instruction and data pointers with their selectors and opcode, and the eight 80-bit physical
/// registers R0-R7. The core has no x87 arithmetic, so nothing here changes except through the
/// control and state-management instructions (FNINIT, FLDCW, FNCLEX, FLDENV, FRSTOR, FXRSTOR,
/// XRSTOR) and the registers and pointers only move between memory images.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>Last x87 instruction pointer (offset) and opcode (11 bits). The FPU CS and DS
    /// selectors are deprecated (CPUID.(EAX=07H,ECX=0):EBX[13] = 1): every image stores 0000H.</summary>
    public ulong FpuInstructionPointer;
    public ushort FpuOpcode;

    /// <summary>Last x87 data (operand) pointer (offset).</summary>
    public ulong FpuDataPointer;

    /// <summary>Physical registers R0-R7: 64-bit significand and 16-bit sign + exponent. ST(i) is
    /// R[(TOP + i) mod 8] with TOP = FSW bits 13:11.</summary>
    public readonly ulong[] FpuSignificand = new ulong[8];
    public readonly ushort[] FpuSignExponent = new ushort[8];

    private const ushort FpuControlInit = 0x37F;

    private int FpuTop => (FpuStatus >> 11) & 7;

    /// <summary>FNINIT/FINIT (SDM vol. 2): FCW 037FH, FSW 0, every register empty, pointers and
    /// opcode 0; the register contents stay.</summary>
    private void FpuInitialise()
    {
        FpuControl = FpuControlInit;
        FpuStatus = 0;
        FpuTagAbridged = 0;
        FpuInstructionPointer = FpuDataPointer = 0;
        FpuOpcode = 0;
    }

    /// <summary>The x87 initial configuration of the XSAVE feature set (SDM vol. 1, 13.6): as
    /// FNINIT, and the registers zero.</summary>
    private void FpuInitialConfiguration()
    {
        FpuInitialise();
        Array.Clear(FpuSignificand);
        Array.Clear(FpuSignExponent);
    }

    /// <summary>True when the x87 state differs from its initial configuration (XINUSE[0]).</summary>
    private bool FpuInUse()
    {
        if (FpuControl != FpuControlInit || FpuStatus != 0 || FpuTagAbridged != 0 || FpuInstructionPointer != 0 || FpuDataPointer != 0
            || FpuOpcode != 0)
        {
            return true;
        }
        for (int r = 0; r < 8; r++)
        {
            if (FpuSignificand[r] != 0 || FpuSignExponent[r] != 0) return true;
        }
        return false;
    }

    /// <summary>The full 16-bit tag word (SDM vol. 1, figure 8-7) FSTENV/FSAVE store: 11 for an
    /// empty register, otherwise 00 valid, 01 zero, 10 special (NaN, infinity, denormal,
    /// unsupported), computed from the register's contents.</summary>
    internal ushort FpuFullTagWord()
    {
        int tw = 0;
        for (int r = 0; r < 8; r++)
        {
            int tag;
            if ((FpuTagAbridged & (1 << r)) == 0)
            {
                tag = 3;
            }
            else
            {
                int e = FpuSignExponent[r] & 0x7FFF;
                ulong m = FpuSignificand[r];
                tag = e == 0x7FFF ? 2 : e == 0 ? (m == 0 ? 1 : 2) : (m >> 63) != 0 ? 0 : 2;
            }
            tw |= tag << (2 * r);
        }
        return (ushort)tw;
    }

    /// <summary>A full tag word as the processor keeps it: one bit per register, set unless empty.</summary>
    internal static byte AbridgeTagWord(ushort tagWord)
    {
        int b = 0;
        for (int r = 0; r < 8; r++)
        {
            if (((tagWord >> (2 * r)) & 3) != 3) b |= 1 << r;
        }
        return (byte)b;
    }

    /// <summary>Stores ST(i) as 10 bytes (significand, then sign + exponent).</summary>
    private void WriteFpuRegister(ulong la, int st)
    {
        int r = (FpuTop + st) & 7;
        Write(la, 8, FpuSignificand[r]);
        Write(la + 8, 2, FpuSignExponent[r]);
    }

    /// <summary>The check a waiting x87 instruction (WAIT/FWAIT, FSTENV, FSAVE, ...) makes
    /// first: #NM when CR0.MP and CR0.TS are both set, then #MF (CR0.NE = 1) for a pending
    /// unmasked exception (FSW.ES). With CR0.NE = 0 the PC would signal FERR#/IRQ 13, which is
    /// not modelled: nothing happens.</summary>
    private void FpuWait()
    {
        if ((Cr0 & 0xA) == 0xA)
        {
            Raise(new GuestFault(GuestFault.DeviceNotAvailable, false, 0, 0));
        }
        if ((FpuStatus & 0x80) != 0 && (Cr0 & 0x20) != 0)
        {
            Raise(new GuestFault(GuestFault.X87FloatingPoint, false, 0, 0));
        }
    }

    /// <summary>The status word as loaded by FLDENV, FRSTOR, FXRSTOR and XRSTOR, or kept after
    /// FLDCW: the error-summary bit ES (7) and its copy B (15) are set exactly when an exception
    /// flag (FSW bits 5:0) is set whose mask bit in FCW is clear (SDM vol. 1, 8.1.3.1).</summary>
    private static ushort FpuStatusWithSummary(ushort fsw, ushort fcw)
    {
        bool es = (fsw & ~fcw & 0x3F) != 0;
        return (ushort)((fsw & ~0x8080) | (es ? 0x8080 : 0));
    }

    private void ResetFpuExtras()
    {
        FpuInstructionPointer = FpuDataPointer = 0;
        FpuOpcode = 0;
        Array.Clear(FpuSignificand);
        Array.Clear(FpuSignExponent);
    }
}
