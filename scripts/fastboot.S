/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fastboot: boot an already decompressed x86-64 kernel from a bzImage shell.
 *
 * Bochs spends most of a Debian kernel's boot in the bzImage decompressor
 * (xz: ~75 s of wall time for 6.1).  scripts/vmtest therefore decompresses
 * the kernel once on the host and builds a bzImage whose protected-mode
 * part is this stub followed by the kernel's flat image.  GRUB enters the
 * stub at 0x100000 in 32-bit protected mode, paging off, %esi = boot_params.
 * The stub moves the image to the physical address it was linked for (so
 * no relocation is needed), zeroes the rest up to the kernel's end, enters
 * long mode with the first 4 GiB identity-mapped and jumps to startup_64,
 * as the 64-bit boot protocol (Documentation/arch/x86/boot.rst) describes.
 *
 * Assembled by vmtest with: KERNEL_PHYS (load address of the image),
 * IMAGE_LEN (bytes, multiple of 4), ZERO_END (first byte after the kernel),
 * ENTRY (physical address of startup_64).
 */
	.code32
	.text
	.globl	_start
_start:
	cli
	cld
	movl	%esi, %ebp
	movl	$stack_top, %esp

	/* The ranges overlap and the target is higher: copy backwards. */
	std
	movl	$(image + IMAGE_LEN - 4), %esi
	movl	$(KERNEL_PHYS + IMAGE_LEN - 4), %edi
	movl	$(IMAGE_LEN / 4), %ecx
	rep movsl
	cld

	/* The image was trimmed of its trailing zeros (.bss, .brk). */
	movl	$(KERNEL_PHYS + IMAGE_LEN), %edi
	movl	$((ZERO_END - KERNEL_PHYS - IMAGE_LEN) / 4), %ecx
	xorl	%eax, %eax
	rep stosl

	/* Identity map 0-4 GiB with 2 MiB pages: 1 PML4, 1 PDPT, 4 PDs. */
	movl	$(pdpt + 3), pml4
	movl	$(pd + 0x0003), pdpt
	movl	$(pd + 0x1003), pdpt + 8
	movl	$(pd + 0x2003), pdpt + 16
	movl	$(pd + 0x3003), pdpt + 24
	movl	$pd, %edi
	movl	$0x83, %eax		/* present, writable, 2 MiB page */
	movl	$2048, %ecx
1:	movl	%eax, (%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	1b

	movl	%cr4, %eax
	orl	$0x20, %eax		/* PAE */
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx	/* EFER */
	rdmsr
	orl	$0x100, %eax		/* LME */
	wrmsr
	lgdt	gdt_desc
	movl	%cr0, %eax
	orl	$0x80000001, %eax	/* PG, PE */
	movl	%eax, %cr0
	ljmp	$0x08, $long_mode

	.code64
long_mode:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%ebp, %esi		/* boot_params, zero-extended */
	movq	$ENTRY, %rax
	jmp	*%rax

	.balign	8
gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff	/* 0x10: data */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

	.balign	4096
pml4:	.fill	512, 8, 0
pdpt:	.fill	512, 8, 0
pd:	.fill	2048, 8, 0
	.fill	1024, 1, 0
stack_top:
	.balign	4096
image:
