using System.Runtime.CompilerServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Two-operand ALU instructions specialised per operation through static abstract interface
/// members, so the JIT emits one straight-line body per operation (no second dispatch on the
/// operation inside the hot path). Flags are computed eagerly (see DESIGN.md for the measurement).
/// </summary>
public sealed unsafe partial class Cpu
{
    private interface IAluOp
    {
        static abstract ulong Apply(Cpu cpu, ulong a, ulong b, int size);

        static abstract bool WritesResult { get; }
    }

    private struct AddOp : IAluOp
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Cpu cpu, ulong a, ulong b, int size)
        {
            ulong r = (a + b) & Mask(size);
            int sh = size * 8 - 1;
            cpu.SetStatus(Szp(r, size) | (r < a ? Flag.CF : 0) | ((((a ^ r) & (b ^ r)) >> sh) & 1) << 11 | ((a ^ b ^ r) & Flag.AF));
            return r;
        }
    }

    private struct SubOp : IAluOp
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Cpu cpu, ulong a, ulong b, int size)
        {
            ulong r = (a - b) & Mask(size);
            int sh = size * 8 - 1;
            cpu.SetStatus(Szp(r, size) | (a < b ? Flag.CF : 0) | ((((a ^ b) & (a ^ r)) >> sh) & 1) << 11 | ((a ^ b ^ r) & Flag.AF));
            return r;
        }
    }

    private struct CmpOp : IAluOp
    {
        public static bool WritesResult => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Cpu cpu, ulong a, ulong b, int size) => SubOp.Apply(cpu, a, b, size);
    }

    private struct AndOp : IAluOp
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Cpu cpu, ulong a, ulong b, int size)
        {
            ulong r = a & b;
            cpu.SetStatus(Szp(r, size));
            return r;
        }
    }

    private struct TestOp : IAluOp
    {
        public static bool WritesResult => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Cpu cpu, ulong a, ulong b, int size) => AndOp.Apply(cpu, a, b, size);
    }

    private struct OrOp : IAluOp
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Cpu cpu, ulong a, ulong b, int size)
        {
            ulong r = a | b;
            cpu.SetStatus(Szp(r, size));
            return r;
        }
    }

    private struct XorOp : IAluOp
    {
        public static bool WritesResult => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong Apply(Cpu cpu, ulong a, ulong b, int size)
        {
            ulong r = a ^ b;
            cpu.SetStatus(Szp(r, size));
            return r;
        }
    }

    private struct AdcOp : IAluOp
    {
        public static bool WritesResult => true;

        public static ulong Apply(Cpu cpu, ulong a, ulong b, int size) => cpu.Alu(Handler.Adc, a, b, size);
    }

    private struct SbbOp : IAluOp
    {
        public static bool WritesResult => true;

        public static ulong Apply(Cpu cpu, ulong a, ulong b, int size) => cpu.Alu(Handler.Sbb, a, b, size);
    }

    /// <summary>op r/m, r/m/imm with the operation inlined.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AluRm<T>(DecodedOp d) where T : struct, IAluOp
    {
        int size = d.Size;
        if (d.K0 == OperandKind.Reg)
        {
            ulong b = Src1(d, size);
            ulong r = T.Apply(this, GetReg(d.R0, size), b, size);
            if (T.WritesResult)
            {
                SetReg(d.R0, size, r);
            }
        }
        else
        {
            ulong la = Ea(d);
            ulong b = d.K1 == OperandKind.Reg ? GetReg(d.R1, size) : d.Imm & Mask(size);
            ulong r = T.Apply(this, Read(la, size), b, size);
            if (T.WritesResult)
            {
                Write(la, size, r);
            }
        }
    }
}
