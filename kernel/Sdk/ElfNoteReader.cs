using HekiGuest.Abi;

namespace HekiGuest.Sdk
{
    /// <summary>
    /// Finds the HekiGuest kexec marker (<see cref="KexecMarker"/>) among the notes of an ELF64
    /// image held in memory (a kexec target), or in a bare note sequence (an image's own note
    /// section). Bounded and strict: every offset is checked against the bytes given before it is
    /// read, with no arithmetic that can wrap; at most <see cref="MaxProgramHeaders"/> program
    /// headers; a PT_NOTE segment must lie inside the image, start on its alignment (4 or 8) and
    /// not overlap another PT_NOTE segment; each note's header, padded name and padded descriptor
    /// must fit in its segment; names must end in NUL; the marker may appear once. Anything else
    /// is an <see cref="ElfNoteStatus"/> error, never a fault or a partial answer. No allocation.
    /// </summary>
    public static unsafe class ElfNoteReader
    {
        public const int MaxProgramHeaders = 256;
        private const uint PtNote = 4;
        private const ulong EhdrSize = 64, PhdrSize = 56, NoteHeaderSize = 12;

        private static readonly byte[] MarkerName = { (byte)'H', (byte)'e', (byte)'k', (byte)'i', (byte)'G', (byte)'u', (byte)'e', (byte)'s', (byte)'t', 0 };

        /// <summary>The marker of the ELF64 file image [image, image + length).</summary>
        public static long FindMarkerInImage(byte* image, ulong length, out uint version, out uint flags)
        {
            version = flags = 0;
            if (image == null || length < EhdrSize || image[0] != 0x7F || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F'
                || image[4] != 2 || image[5] != 1)
                return ElfNoteStatus.NotElf64;
            ulong phoff = U64(image + 32);
            ulong phentsize = U16(image + 54), phnum = U16(image + 56);
            if (phnum == 0) return ElfNoteStatus.NotFound;
            if (phentsize != PhdrSize || phnum > MaxProgramHeaders || phoff > length || phnum * PhdrSize > length - phoff)
                return ElfNoteStatus.BadProgramHeaders;

            // every PT_NOTE segment is checked before any is read, overlaps included
            for (ulong i = 0; i < phnum; i++)
            {
                byte* ph = image + phoff + i * PhdrSize;
                if (U32(ph) != PtNote) continue;
                ulong off = U64(ph + 8), size = U64(ph + 32), align = U64(ph + 48);
                if (off > length || size > length - off) return ElfNoteStatus.SegmentOutsideImage;
                if ((align != 4 && align != 8) || off % align != 0 || size % 4 != 0) return ElfNoteStatus.Misaligned;
                for (ulong j = 0; j < i; j++)
                {
                    byte* other = image + phoff + j * PhdrSize;
                    if (U32(other) != PtNote) continue;
                    ulong o = U64(other + 8), s = U64(other + 32);
                    if (size != 0 && s != 0 && off < o + s && o < off + size) return ElfNoteStatus.OverlappingSegments;
                }
            }
            long result = ElfNoteStatus.NotFound;
            for (ulong i = 0; i < phnum; i++)
            {
                byte* ph = image + phoff + i * PhdrSize;
                if (U32(ph) != PtNote) continue;
                long r = FindMarkerInNotes(image + U64(ph + 8), U64(ph + 32), U64(ph + 48), out uint v, out uint f);
                if (r < 0) return r;
                if (r == ElfNoteStatus.Found)
                {
                    if (result == ElfNoteStatus.Found)
                    {
                        version = flags = 0;
                        return ElfNoteStatus.Duplicate;
                    }
                    result = r;
                    version = v;
                    flags = f;
                }
            }
            return result;
        }

        /// <summary>The marker in a note sequence [notes, notes + length) aligned to
        /// <paramref name="align"/> (4 or 8), such as one PT_NOTE segment.</summary>
        public static long FindMarkerInNotes(byte* notes, ulong length, ulong align, out uint version, out uint flags)
        {
            version = flags = 0;
            if (align != 4 && align != 8) return ElfNoteStatus.Misaligned;
            if (notes == null) return length == 0 ? ElfNoteStatus.NotFound : ElfNoteStatus.Truncated;
            if (length % 4 != 0) return ElfNoteStatus.Misaligned;
            long result = ElfNoteStatus.NotFound;
            uint foundVersion = 0, foundFlags = 0;
            ulong pos = 0;
            while (pos < length)
            {
                if (length - pos < NoteHeaderSize) return ElfNoteStatus.Truncated;
                byte* n = notes + pos;
                ulong namesz = U32(n), descsz = U32(n + 4);
                uint type = U32(n + 8);
                ulong rest = length - pos - NoteHeaderSize;
                ulong namePadded = Pad(namesz, align), descPadded = Pad(descsz, align);
                if (namePadded > rest || descPadded > rest - namePadded) return ElfNoteStatus.Truncated;
                byte* name = n + NoteHeaderSize;
                if (namesz != 0 && name[namesz - 1] != 0) return ElfNoteStatus.BadName;
                if (type == KexecMarker.NoteType && IsMarkerName(name, namesz))
                {
                    if (result == ElfNoteStatus.Found) return ElfNoteStatus.Duplicate;
                    if (descsz < KexecMarker.DescriptorSize) return ElfNoteStatus.BadDescriptor;
                    byte* desc = name + namePadded;
                    if (U32(desc) == 0) return ElfNoteStatus.BadDescriptor;
                    foundVersion = U32(desc);
                    foundFlags = U32(desc + 4);
                    result = ElfNoteStatus.Found;
                }
                pos += NoteHeaderSize + namePadded + descPadded;
            }
            // the outputs are set only for a sequence that is well-formed to its end
            version = foundVersion;
            flags = foundFlags;
            return result;
        }

        private static bool IsMarkerName(byte* name, ulong namesz)
        {
            if (namesz != (ulong)MarkerName.Length) return false;
            for (int i = 0; i < MarkerName.Length; i++)
            {
                if (name[i] != MarkerName[i]) return false;
            }
            return true;
        }

        private static ulong Pad(ulong size, ulong align) => (size + align - 1) & ~(align - 1);
        private static ulong U16(byte* p) => (ulong)(p[0] | (p[1] << 8));
        private static uint U32(byte* p) => (uint)(p[0] | (p[1] << 8) | (p[2] << 16) | (p[3] << 24));
        private static ulong U64(byte* p) => U32(p) | ((ulong)U32(p + 4) << 32);
    }
}
