namespace HekiGuest.Tests.Boot;

/// <summary>
/// Limits how many guests run at once across the whole test run (the machine has 2 cores; a TCG
/// guest keeps one busy). A boot's deadline starts only once it holds a slot.
/// </summary>
public static class BootSlots
{
    /// <summary>How many boots may run at the same time.</summary>
    public static readonly int Capacity = Math.Clamp(Environment.ProcessorCount, 1, 2);

    private static readonly SemaphoreSlim Slots = new(Capacity, Capacity);

    /// <summary>Waits for a free slot; dispose the result to give it back.</summary>
    public static async Task<IDisposable> AcquireAsync(CancellationToken cancellationToken)
    {
        await Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Slot();
    }

    private sealed class Slot : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                Slots.Release();
            }
        }
    }
}
