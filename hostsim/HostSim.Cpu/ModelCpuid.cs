namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// CPUID for a <see cref="CpuModel"/>: leaf 0 (highest basic leaf, vendor), leaf 1 (signature,
/// CLFLUSH line size, features, OSXSAVE mirroring CR4), leaf 7.0, leaf 0xD (x87 + SSE state, when
/// the model has XSAVE), 0x80000000 (AMD: vendor again), 0x80000001 (AMD: signature and the
/// leaf-1 EDX aliases), the brand string (0x80000002-4) and 0x80000008 (39-bit physical and
/// 48-bit linear addresses, what the machine's paging implements). Every other leaf is zero.
/// </summary>
public sealed class ModelCpuid : ICpuidProvider
{
    private const uint MaxExtendedLeaf = 0x8000_0008;

    // leaf-1 EDX bits AMD repeats in 0x80000001 EDX (FPU..APIC, MTRR..PSE36, MMX, FXSR)
    private const uint AmdAliases = 0x0183_F3FF;

    private readonly CpuModel _model;
    private readonly uint _maxBasic;
    private uint _l1Ecx, _l1Edx, _l7Ebx, _l7Ecx, _l7Edx, _lDEax, _extEcx, _extEdx;
    private readonly uint[] _brand = new uint[12];
    private readonly uint _vendorEbx, _vendorEcx, _vendorEdx;

    public ModelCpuid(CpuModel model)
    {
        _model = model;
        foreach (var f in CpuFeatures.Implemented.Where(f => model.Has(f.Name)))
        {
            ref uint reg = ref Register(f);
            reg |= f.Mask;
        }
        if (model.Vendor == CpuVendor.Amd)
        {
            _extEdx |= _l1Edx & AmdAliases;
        }
        _maxBasic = model.Has(CpuFeatures.Xsave) ? 0xDu : 0xBu;
        string v = model.VendorString;
        _vendorEbx = Chars(v, 0);
        _vendorEdx = Chars(v, 4);
        _vendorEcx = Chars(v, 8);
        var brand = (model.Brand.Length > 47 ? model.Brand[..47] : model.Brand).PadRight(48, '\0');
        for (int i = 0; i < 12; i++)
        {
            _brand[i] = Chars(brand, 4 * i);
        }
    }

    public CpuModel Model => _model;

    private static uint Chars(string s, int i) => (uint)(s[i] | s[i + 1] << 8 | s[i + 2] << 16 | s[i + 3] << 24);

    private ref uint Register(CpuFeature f)
    {
        switch ((f.Leaf, f.Register))
        {
            case (1, CpuidRegister.Ecx): return ref _l1Ecx;
            case (1, CpuidRegister.Edx): return ref _l1Edx;
            case (7, CpuidRegister.Ebx): return ref _l7Ebx;
            case (7, CpuidRegister.Ecx): return ref _l7Ecx;
            case (7, CpuidRegister.Edx): return ref _l7Edx;
            case (0xD, CpuidRegister.Eax): return ref _lDEax;
            case (0x8000_0001, CpuidRegister.Ecx): return ref _extEcx;
            case (0x8000_0001, CpuidRegister.Edx): return ref _extEdx;
            default: throw new InvalidOperationException($"feature {f.Name}: no register for leaf 0x{f.Leaf:x} {f.Register}");
        }
    }

    public CpuidResult Query(Cpu cpu, uint leaf, uint subleaf)
    {
        bool amd = _model.Vendor == CpuVendor.Amd;
        bool xsave = _model.Has(CpuFeatures.Xsave);
        switch (leaf)
        {
            case 0:
                return new CpuidResult(_maxBasic, _vendorEbx, _vendorEcx, _vendorEdx);
            case 1:
                {
                    uint osxsave = xsave && (cpu.Cr4 & (1UL << 18)) != 0 ? 1u << 27 : 0;
                    // EBX: CLFLUSH line size 8 x 8 bytes, one logical processor, initial APIC ID 0
                    uint ebx = (_model.Has(CpuFeatures.Clflush) ? 8u << 8 : 0) | 1u << 16;
                    return new CpuidResult(_model.Signature, ebx, _l1Ecx | osxsave, _l1Edx);
                }
            case 7:
                return subleaf == 0 ? new CpuidResult(0, _l7Ebx, _l7Ecx, _l7Edx) : default;
            case 0xD when xsave && leaf <= _maxBasic:
                return subleaf switch
                {
                    // supported XCR0 bits; area size for the enabled XCR0 and for all supported
                    // components (both only the legacy region + header: x87 and SSE live there)
                    0 => new CpuidResult((uint)Cpu.XsaveSupportedMask, Cpu.XsaveAreaSize, Cpu.XsaveAreaSize, 0),
                    // XSAVEOPT(0) XSAVEC(1); compacted size for XCR0 (no IA32_XSS components)
                    1 => new CpuidResult(_lDEax, Cpu.XsaveAreaSize, 0, 0),
                    _ => default,
                };
            case 0x8000_0000:
                return amd ? new CpuidResult(MaxExtendedLeaf, _vendorEbx, _vendorEcx, _vendorEdx) : new CpuidResult(MaxExtendedLeaf, 0, 0, 0);
            case 0x8000_0001:
                return new CpuidResult(amd ? _model.Signature : 0, 0, _extEcx, _extEdx);
            case >= 0x8000_0002 and <= 0x8000_0004:
                {
                    int i = (int)(leaf - 0x8000_0002) * 4;
                    return new CpuidResult(_brand[i], _brand[i + 1], _brand[i + 2], _brand[i + 3]);
                }
            case 0x8000_0008:
                return new CpuidResult(0x3027, 0, 0, 0); // 39-bit physical, 48-bit linear
            default:
                return default;
        }
    }
}
