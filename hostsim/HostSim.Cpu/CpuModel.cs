namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// A named CPU model like QEMU's <c>-cpu</c>: the identity CPUID reports (vendor,
/// family/model/stepping, brand string) and the features it has, always a subset of
/// <see cref="CpuFeatures.Implemented"/> closed under their dependencies. The core follows the
/// model beyond CPUID where the architecture ties behaviour to a feature: CR4 and EFER bits of an
/// absent feature #GP, SYSENTER/SYSEXIT, RDTSCP, INVPCID, XSAVEOPT and XSAVEC #UD.
/// </summary>
public sealed class CpuModel
{
    private readonly HashSet<string> _features;

    public CpuModel(string name, string description, CpuVendor vendor, int family, int model, int stepping, string brand, IEnumerable<string> features)
    {
        Name = name;
        Description = description;
        Vendor = vendor;
        Family = family;
        ModelNumber = model;
        Stepping = stepping;
        Brand = brand;
        _features = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string f in features)
        {
            var feature = CpuFeatures.Find(f) ?? throw new ArgumentException($"model {name}: '{f}' is not a feature the core implements");
            _features.Add(feature.Name);
        }
        foreach (string f in _features)
        {
            foreach (string dep in CpuFeatures.Find(f)!.Requires)
            {
                if (!_features.Contains(dep)) throw new ArgumentException($"model {name}: {f} requires {dep}");
            }
        }
    }

    public string Name { get; }
    public string Description { get; }
    public CpuVendor Vendor { get; }
    public int Family { get; }
    public int ModelNumber { get; }
    public int Stepping { get; }
    public string Brand { get; }

    /// <summary>The 12-character vendor string of CPUID leaf 0.</summary>
    public string VendorString => Vendor == CpuVendor.Intel ? "GenuineIntel" : "AuthenticAMD";

    /// <summary>The features this model has (names from <see cref="CpuFeatures"/>).</summary>
    public IReadOnlySet<string> Features => _features;

    public bool Has(string feature) => _features.Contains(feature);

    /// <summary>CPUID leaf 1 EAX: stepping, model, family with the extended fields as the SDM encodes them.</summary>
    public uint Signature
    {
        get
        {
            int familyField = Math.Min(Family, 0xF);
            int extFamily = Family > 0xF ? Family - 0xF : 0;
            int extModel = familyField is 6 or 0xF ? ModelNumber >> 4 : 0;
            return (uint)(Stepping & 0xF | (ModelNumber & 0xF) << 4 | familyField << 8 | extModel << 16 | extFamily << 20);
        }
    }

    /// <summary>This model with <paramref name="feature"/> added (with nothing missing it needs) or removed
    /// (together with every feature that needs it).</summary>
    public CpuModel With(string feature, bool enabled)
    {
        var set = new HashSet<string>(_features, StringComparer.OrdinalIgnoreCase);
        if (enabled)
        {
            set.Add(feature);
        }
        else
        {
            set.Remove(feature);
            bool changed = true;
            while (changed)
            {
                changed = false;
                foreach (string f in set.ToArray())
                {
                    if (CpuFeatures.Find(f)!.Requires.Any(d => !set.Contains(d)))
                    {
                        set.Remove(f);
                        changed = true;
                    }
                }
            }
        }
        return new CpuModel(Name, Description, Vendor, Family, ModelNumber, Stepping, Brand, set);
    }

    public override string ToString() => Name;
}
