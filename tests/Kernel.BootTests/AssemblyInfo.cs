using System.Runtime.Versioning;

// The harness drives QEMU and bash scripts on Linux hosts; Unix file modes are used freely.
[assembly: SupportedOSPlatform("linux")]
