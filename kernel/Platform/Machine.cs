using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Drivers;

namespace HekiGuest.Platform;

// The kernel's global devices and its way out: QEMU's isa-debug-exit at port 0xF4
// (the host exits with (status << 1) | 1). Without that device the CPU halts forever.
public static class Machine
{
    public const ushort DebugExitPort = 0xF4;
    public const byte ExitPassed = 0;      // host exit code 1
    public const byte ExitFailed = 1;      // host exit code 3
    public const byte ExitPanic = 2;       // host exit code 5

    public static Serial16550 Serial;
    public static TextOut Console;

    public static void InitializeConsole()
    {
        Serial = new Serial16550(Serial16550.Com1);
        Serial.Initialize();
        Console = new TextOut(Serial);
    }

    public static void Exit(byte status)
    {
        Native.OutB(DebugExitPort, status);
        Native.DisableInterrupts();
        for (;;) Native.Halt();
    }
}
