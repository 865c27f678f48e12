namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Parses a QEMU-style CPU specification, <c>MODEL[,+feat|-feat|feat=on|feat=off...]</c>, into a
/// <see cref="CpuModel"/>. Later items win over earlier ones. Removing a feature also removes the
/// model's features that need it; enabling one whose dependency is absent is an error, as is
/// enabling a feature the core does not implement.
/// </summary>
public static class CpuModelSpec
{
    public static CpuModel Parse(string spec)
    {
        var items = spec.Split(',', StringSplitOptions.TrimEntries);
        if (items[0].Length == 0)
        {
            throw new CpuModelSpecError("--cpu needs a model name (--cpu help lists them)");
        }
        var model = CpuModels.Find(items[0])
            ?? throw new CpuModelSpecError($"--cpu: unknown CPU model '{items[0]}' (known: {string.Join(", ", CpuModels.All.Select(m => m.Name))})");
        var features = new HashSet<string>(model.Features, StringComparer.OrdinalIgnoreCase);
        var enabled = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string item in items.Skip(1))
        {
            var (name, enable) = Switch(item);
            var feature = CpuFeatures.Find(name);
            if (feature is null)
            {
                if (!enable && CpuFeatures.NotImplemented.Contains(name)) continue; // already absent
                throw new CpuModelSpecError(CpuFeatures.NotImplemented.Contains(name)
                    ? $"--cpu {item}: '{name}' is not implemented by hostsim's CPU core, so no model can advertise it"
                    : $"--cpu {item}: unknown CPU feature '{name}'");
            }
            if (enable)
            {
                features.Add(feature.Name);
                enabled.Add(feature.Name);
            }
            else
            {
                features.Remove(feature.Name);
                enabled.Remove(feature.Name);
            }
        }
        // a removed feature takes the model's features that need it along; one asked for with + is an error
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (string f in features.ToArray())
            {
                string? missing = CpuFeatures.Find(f)!.Requires.FirstOrDefault(d => !features.Contains(d));
                if (missing is null) continue;
                if (enabled.Contains(f))
                {
                    throw new CpuModelSpecError($"--cpu {spec}: {f} requires {missing} (add +{missing} or remove {f})");
                }
                features.Remove(f);
                changed = true;
            }
        }
        return new CpuModel(model.Name, model.Description, model.Vendor, model.Family, model.ModelNumber, model.Stepping, model.Brand, features);
    }

    private static (string Name, bool Enable) Switch(string item)
    {
        if (item.Length > 1 && item[0] is '+' or '-')
        {
            return (item[1..], item[0] == '+');
        }
        int eq = item.IndexOf('=');
        if (eq > 0)
        {
            string value = item[(eq + 1)..].ToLowerInvariant();
            bool? on = value switch { "on" or "true" or "yes" => true, "off" or "false" or "no" => false, _ => null };
            if (on is { } b) return (item[..eq], b);
        }
        throw new CpuModelSpecError($"--cpu: '{item}' is not +FEATURE, -FEATURE, FEATURE=on or FEATURE=off");
    }

    /// <summary>The text of <c>--cpu help</c>: the models, then the features.</summary>
    public static string Help()
    {
        var w = new System.Text.StringBuilder();
        w.AppendLine("Available CPU models (--cpu MODEL[,+feat,-feat,...]; default " + CpuModels.DefaultName + "):");
        foreach (var m in CpuModels.All)
        {
            w.AppendLine($"  {m.Name,-16} {m.VendorString} family {m.Family} model {m.ModelNumber} stepping {m.Stepping}: {m.Description}");
            w.AppendLine($"  {"",-16} {string.Join(" ", CpuFeatures.Implemented.Where(f => m.Has(f.Name)).Select(f => f.Name))}");
        }
        w.AppendLine("CPU features the core implements (switchable with +/-):");
        foreach (var f in CpuFeatures.Implemented)
        {
            w.AppendLine($"  {f.Name,-16} {f.Description}");
        }
        w.AppendLine("Not implemented by the core (never advertised): " + string.Join(" ", CpuFeatures.NotImplemented.Order(StringComparer.Ordinal)));
        return w.ToString();
    }
}
