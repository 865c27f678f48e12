using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// Secure intercepts of VTL0 delivered to VTL1 (docs/vtl.md section 11). The message is built
/// from VTL0's state at the intercepted instruction; a host exit then abandons that instruction
/// (RIP stays on it), saves VTL0's state, enters VTL1, and writes entry reason 3 (intercept) and
/// the 256-byte Hyper-V message into the VP assist page (offsets 8 and 112). VTL1 answers with a
/// VTL return: VTL0 re-executes the instruction, unless VTL1 moved its RIP (emulation) or made an
/// exception pending (PendingEvent0).
/// </summary>
public sealed class SecureIntercepts(VsmHost host, VirtualMachine vm)
{
    private const int InstructionBytes = 16;

    private readonly InterceptedInstructionReader _reader = new();
    private readonly Iced.Intel.Decoder?[] _decoders = new Iced.Intel.Decoder?[3];

    public long Delivered { get; private set; }

    /// <summary>A VTL0 access to <paramref name="physical"/> refused by VTL1's protections.</summary>
    internal void Memory(Cpu.Cpu cpu, ulong linear, ulong physical, AccessKind access, bool pageWalk)
    {
        // the instruction's length for a data access (VTL1 may skip it); none for a fetch
        int length = access == AccessKind.Execute ? 0 : Decode(cpu).Length;
        var message = Header(cpu, HvMessage.TypeGpaIntercept, HvMessage.GpaSize, length, access switch
        {
            AccessKind.Write => HvMessage.AccessWrite,
            AccessKind.Execute => HvMessage.AccessExecute,
            _ => HvMessage.AccessRead,
        });
        var p = message.AsSpan(HvMessage.PayloadOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(p[HvMessage.GpaCacheType..], HvMessage.CacheTypeWriteBack);
        p[HvMessage.GpaAccessInfo] = (byte)(HvMessage.AccessInfoGvaValid | (pageWalk ? 0 : HvMessage.AccessInfoGvaGpaValid));
        BinaryPrimitives.WriteUInt64LittleEndian(p[HvMessage.GpaGva..], linear);
        BinaryPrimitives.WriteUInt64LittleEndian(p[HvMessage.GpaGpa..], physical);
        if (access != AccessKind.Execute)
        {
            // the instruction's bytes (VTL0's own code, as its paging maps it): none for a fetch
            p[HvMessage.GpaInstructionByteCount] = (byte)PeekVtl0Code(cpu, p.Slice(HvMessage.GpaInstructionBytes, InstructionBytes));
        }
        Request(message, new VsmInterceptEvent(VsmInterceptKind.Memory, VsmHost.Vcpu, cpu.CurrentInstructionRip)
        {
            Gpa = physical, Gva = linear, Access = access, PageWalk = pageWalk,
        });
    }

    /// <summary>A VTL0 write of <paramref name="register"/> (a TLFS register name) intercepted;
    /// <paramref name="value"/> is the 16-byte register value VTL0 tried to load.</summary>
    internal void Register(Cpu.Cpu cpu, uint register, UInt128 value)
    {
        var instruction = Decode(cpu);
        var message = Header(cpu, HvMessage.TypeRegisterIntercept, HvMessage.RegisterSize, instruction.Length, HvMessage.AccessWrite);
        var p = message.AsSpan(HvMessage.PayloadOffset);
        p[HvMessage.RegisterIsMemoryOp] = (byte)(instruction.Op0Kind == Iced.Intel.OpKind.Memory ? 1 : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(p[HvMessage.RegisterName..], register);
        BinaryPrimitives.WriteUInt128LittleEndian(p[HvMessage.RegisterValue..], value);
        Request(message, new VsmInterceptEvent(VsmInterceptKind.Register, VsmHost.Vcpu, cpu.CurrentInstructionRip)
        {
            Register = register, Value = (ulong)value,
        });
    }

    /// <summary>A VTL0 WRMSR of <paramref name="msr"/> intercepted (EDX:EAX as VTL0 set them).</summary>
    internal void Msr(Cpu.Cpu cpu, uint msr, ulong value)
    {
        var message = Header(cpu, HvMessage.TypeMsrIntercept, HvMessage.MsrSize, Decode(cpu).Length, HvMessage.AccessWrite);
        var p = message.AsSpan(HvMessage.PayloadOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(p[HvMessage.MsrNumber..], msr);
        BinaryPrimitives.WriteUInt64LittleEndian(p[HvMessage.MsrRdx..], value >> 32);
        BinaryPrimitives.WriteUInt64LittleEndian(p[HvMessage.MsrRax..], value & 0xFFFF_FFFF);
        Request(message, new VsmInterceptEvent(VsmInterceptKind.Msr, VsmHost.Vcpu, cpu.CurrentInstructionRip) { Msr = msr, Value = value });
    }

    /// <summary>The intercepted instruction as VTL0's paging maps it (its length and operands
    /// go into the message), decoded again with one reused decoder per code size.</summary>
    private Iced.Intel.Instruction Decode(Cpu.Cpu cpu)
    {
        int n = PeekVtl0Code(cpu, _reader.Buffer);
        _reader.Reset(n);
        int size = cpu.Bitness == 64 ? 2 : cpu.Bitness == 32 ? 1 : 0;
        var decoder = _decoders[size] ??= Iced.Intel.Decoder.Create(cpu.Bitness, _reader);
        decoder.IP = cpu.CurrentInstructionRip;
        decoder.Decode(out var instruction);
        return instruction;
    }

    /// <summary>VTL0's instruction bytes at the intercepted RIP, through VTL0's paging (for VTL1,
    /// which may see them whatever the host's inspection filter hides); returns how many.</summary>
    private int PeekVtl0Code(Cpu.Cpu cpu, Span<byte> destination)
    {
        ulong linear = cpu.CurrentInstructionRip + (cpu.Bitness == 64 ? 0 : cpu.Segments[Cpu.Cpu.CS].Base);
        int done = 0;
        while (done < destination.Length)
        {
            ulong at = linear + (ulong)done;
            if (!vm.Paging.TryPeek(at, out ulong physical)) break;
            int chunk = (int)Math.Min((ulong)(destination.Length - done), 4096 - (at & 0xFFF));
            chunk = (int)Math.Min((ulong)chunk, vm.Memory.Size - physical);
            vm.Memory.Slice(physical, chunk).CopyTo(destination[done..]);
            done += chunk;
        }
        return done;
    }

    private static byte[] Header(Cpu.Cpu cpu, uint type, int payloadSize, int instructionLength, byte accessType)
    {
        var message = new byte[HvMessage.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(message.AsSpan(HvMessage.TypeOffset), type);
        message[HvMessage.PayloadSizeOffset] = (byte)payloadSize;
        var p = message.AsSpan(HvMessage.PayloadOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(p[HvMessage.HeaderVpIndex..], (uint)VsmHost.VpIndex);
        p[HvMessage.HeaderInstructionLength] = (byte)(instructionLength & 0xF);
        p[HvMessage.HeaderAccessType] = accessType;
        ushort state = (ushort)(cpu.Cpl
            | ((cpu.Cr0 & 1) != 0 ? HvMessage.StateCr0Pe : 0)
            | ((cpu.Cr0 & (1UL << 18)) != 0 ? HvMessage.StateCr0Am : 0)
            | ((cpu.Efer & (1UL << 10)) != 0 ? HvMessage.StateEferLma : 0));   // VTL 0 in bits 10:7
        BinaryPrimitives.WriteUInt16LittleEndian(p[HvMessage.HeaderExecutionState..], state);
        VpRegisterFile.WriteSegment(p.Slice(HvMessage.HeaderCs, 16), cpu.Segments[Cpu.Cpu.CS]);
        BinaryPrimitives.WriteUInt64LittleEndian(p[HvMessage.HeaderRip..], cpu.CurrentInstructionRip);
        BinaryPrimitives.WriteUInt64LittleEndian(p[HvMessage.HeaderRflags..], cpu.Rflags);
        return message;
    }

    private void Request(byte[] message, VsmInterceptEvent e) => vm.RequestHostExit(() => Deliver(message, e));

    private void Deliver(byte[] message, VsmInterceptEvent e)
    {
        if (!host.EnterVtl1ForIntercept(message)) return;
        Delivered++;
        host.Intercepted(e);
    }
}
