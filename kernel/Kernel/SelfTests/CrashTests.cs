using HekiGuest.Platform.Testing;
using HekiGuest.Kernel.Testing;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform;
using Internal.Runtime;

namespace HekiGuest.Kernel.SelfTests;

// Hidden groups that deliberately crash or hang, so the host-side harness can prove each
// failure is reported (PANIC line + exit status, or a deadline) instead of going unnoticed.
public sealed unsafe class CrashTest : ITestGroup
{
    public enum Kind { Panic, Null, Bounds, Cast, OutOfMemory, StackCookie, DivideByZero, Hang, TripleFault, StackOverflow }

    private readonly Kind _kind;
    private readonly string _name;

    public CrashTest(Kind kind, string name) { _kind = kind; _name = name; }

    public string Name => _name;
    public bool Hidden => true;

    private sealed class Victim { public int Field; }
    private static Victim s_null;
    private static int s_index = 10;
    private static object s_notAVictim = "string";
    private static Victim s_victim;
    private static int s_zero;

    public void Run(TestContext t)
    {
        t.Info("deliberate failure follows");
        switch (_kind)
        {
            case Kind.Panic: RuntimeFailure.Fail(FailureKind.Assertion, "deliberate panic (crash.panic)"); break;
            case Kind.Null: s_null.Field = 1; break;
            case Kind.Bounds: { int[] a = new int[4]; a[s_index] = 1; break; }
            case Kind.Cast:
            {
                s_victim = new Victim();
                // Opaque to the compiler, so the cast is checked at run time.
                object o = Native.ReadTsc() != 0 ? s_notAVictim : s_victim;
                Victim v = (Victim)o;
                v.Field = 2;
                s_victim = v;
                break;
            }
            case Kind.OutOfMemory: for (;;) { byte[] b = new byte[8 << 20]; b[0] = 1; } 
            case Kind.StackCookie: SmashStack(); break;
            case Kind.DivideByZero: t.Equal(100 / s_zero, 0, "unreachable"); break;
            case Kind.Hang: Native.DisableInterrupts(); for (;;) Native.Pause();
            case Kind.StackOverflow: t.Equal(Recurse(1), 0, "unreachable"); break;
            case Kind.TripleFault:
            {
                DescriptorTablePointer empty; empty.Limit = 0; empty.Base = 0;
                SealedOps.LoadIdt(&empty);
                s_null.Field = 3;   // #PF -> no IDT -> #DF -> triple fault
                break;
            }
        }
        t.Fail(_name, "the deliberate failure did not happen");
    }

    // Each level keeps 512 bytes live; the boot stack's guard page ends it.
    public static int Recurse(int depth)
    {
        byte* frame = stackalloc byte[512];
        frame[0] = (byte)depth;
        frame[511] = (byte)depth;
        return Recurse(depth + 1) + frame[0] + frame[511];
    }

    private static void SmashStack()
    {
        byte* buffer = stackalloc byte[32];
        // Overrun the buffer into the stack-protector cookie and beyond.
        for (int i = 0; i < 32 + s_index * 4; i++) buffer[i] = 0x41;
        Consume(buffer);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Consume(byte* p) { }
}
