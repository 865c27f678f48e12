# The HekiGuest kexec marker (docs/vtl.md section 16; numbers in kernel/Sdk/KexecAbi.cs): an ELF
# note, name "HekiGuest", type 0x4b58, descriptor { uint32 version = 1, uint32 flags }, kept in
# the image's PT_NOTE segment by guest.ld.in. The flags are the guest's claim about its own boot:
# bit 0 re-arms CR pins early, bit 1 starts VTL1 early. A guest claims them by defining the
# absolute symbol heki_kexec_marker_flags (.global, .set); without it the weak reference is 0 and
# the note claims nothing, so a kernel with protections on treats the image as unmarked.
        .section .note.hekiguest, "a", @note
        .weak heki_kexec_marker_flags
        .global heki_kexec_note, heki_kexec_note_end
        .balign 4
heki_kexec_note:
        .long 10                        # namesz: "HekiGuest" and its NUL
        .long 8                         # descsz
        .long 0x4b58                    # type: the kexec marker
        .asciz "HekiGuest"
        .balign 4
        .long 1                         # version
        .long heki_kexec_marker_flags   # flags
heki_kexec_note_end:
