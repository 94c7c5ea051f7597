/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny firmware that walks the PC boot story, printing each step on the
 * UART:
 *   1. the vCPU leaves reset at 0xFFFFFFF0 in real mode (CS base 0xFFFF0000)
 *      and jumps to code that sees itself at F000:xxxx through the copy of
 *      the image's last 64 KiB below 1 MiB;
 *   2. it loads a GDT and enters flat 32-bit protected mode;
 *   3. reads the RAM size from CMOS and builds an E820-style memory map at
 *      E820_MAP (count at E820_COUNT);
 *   4. builds page tables identity-mapping 4 GiB, sets EFER.LME and paging:
 *      long mode, then a far jump to 64-bit code;
 *   5. writes 0 to the exit port.
 * With several vCPUs, all start at the reset vector; those whose initial
 * APIC id (CPUID.1:EBX[31:24], set by minivmx-run) is not 0 halt.
 * Built as a 64 KiB image linked at 0xFFFF0000 (see firmware.ld).  16-bit
 * code refers to its data by offset in the 64 KiB segment: OFF(x).
 */
#include "uart.inc"

#define OFF(x)		((x) - fw_start)
#define REAL_STACK	0x7000
#define PM_STACK	0x70000
#define E820_COUNT	0x4ff0
#define E820_MAP	0x5000
#define PT_BASE		0x10000		/* PML4, PDPT, 4 PDs: 0x10000-0x15fff */
#define MSR_EFER	0xc0000080
#define EFER_LME	0x100
#define CR0_PE		0x1
#define CR0_PG		0x80000000
#define CR4_PAE		0x20
#define SEL_CODE32	0x08
#define SEL_DATA	0x10
#define SEL_CODE64	0x18
#define FW_BASE		0xffff0000
#define FW_SIZE		0x10000

	.text
	.globl fw_start
fw_start:

/* ---------------------------------------------------------------- 16-bit */
	.code16
real_start:
	cli
	cld
	/* Every vCPU leaves reset here; only APIC id 0 boots, the rest park. */
	mov	$1, %eax
	cpuid
	shr	$24, %ebx
	jnz	park
	/* The last 64 KiB of the image is also at 0xF0000: use it for data. */
	mov	$0xf000, %ax
	mov	%ax, %ds
	xor	%ax, %ax
	mov	%ax, %ss
	mov	$REAL_STACK, %sp

	mov	$UART_LCR, %dx		/* 8N1 */
	mov	$0x03, %al
	out	%al, %dx

	mov	$OFF(msg_reset), %si
	call	puts16
	/* Far jump to F000:xxxx, the way a PC BIOS leaves the 0xFFFF0000 base. */
	ljmp	$0xf000, $OFF(real_low)
real_low:
	mov	$OFF(msg_low), %si
	call	puts16

	lgdtl	OFF(gdt_desc)
	mov	%cr0, %eax
	or	$CR0_PE, %eax
	mov	%eax, %cr0
	ljmpl	$SEL_CODE32, $pm_start

park:
	hlt
	jmp	park

/* Print the string at DS:SI. */
puts16:
	lodsb
	test	%al, %al
	jz	2f
	mov	%al, %bl
	mov	$UART_LSR, %dx
1:	in	%dx, %al
	test	$LSR_THRE, %al
	jz	1b
	mov	$UART_DATA, %dx
	mov	%bl, %al
	out	%al, %dx
	jmp	puts16
2:	ret

/* ---------------------------------------------------------------- 32-bit */
	.code32
pm_start:
	mov	$SEL_DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$PM_STACK, %esp
	mov	$msg_pm, %esi
	call	puts32

	call	ram_size_from_cmos	/* -> %eax bytes (below 4 GiB) */
	mov	%eax, %ebp
	mov	$msg_ram, %esi
	call	puts32
	mov	%ebp, %eax
	shr	$20, %eax
	call	putdec32
	mov	$msg_mib, %esi
	call	puts32

	call	build_e820
	call	print_e820

	call	build_page_tables
	mov	$msg_pt, %esi
	call	puts32

	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$PT_BASE, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	or	$CR0_PG, %eax
	mov	%eax, %cr0
	/* Now in compatibility mode; a 64-bit CS completes the switch. */
	ljmp	$SEL_CODE64, $lm_start

/*
 * CMOS 0x34/0x35: 64 KiB blocks above 16 MiB; if zero, 0x30/0x31: KiB
 * above 1 MiB.  Returns bytes of RAM below 4 GiB in %eax.
 */
ram_size_from_cmos:
	mov	$0x34, %al
	call	cmos_read16
	test	%eax, %eax
	jz	1f
	shl	$16, %eax
	add	$0x1000000, %eax
	ret
1:	mov	$0x30, %al
	call	cmos_read16
	shl	$10, %eax
	add	$0x100000, %eax
	ret

/* Read CMOS bytes %al (low) and %al+1 (high) into %eax. */
cmos_read16:
	movzbl	%al, %ecx
	out	%al, $CMOS_INDEX
	in	$CMOS_DATA, %al
	movzbl	%al, %edx
	lea	1(%ecx), %eax
	out	%al, $CMOS_INDEX
	in	$CMOS_DATA, %al
	movzbl	%al, %eax
	shl	$8, %eax
	or	%edx, %eax
	ret

/* Append (base %eax, length %edx, type %ecx) to the map; 32-bit fields. */
e820_add:
	mov	E820_COUNT, %edi
	imul	$20, %edi
	add	$E820_MAP, %edi
	mov	%eax, 0(%edi)
	movl	$0, 4(%edi)
	mov	%edx, 8(%edi)
	movl	$0, 12(%edi)
	mov	%ecx, 16(%edi)
	incl	E820_COUNT
	ret

/* RAM size in %ebp. */
build_e820:
	movl	$0, E820_COUNT
	xor	%eax, %eax			/* conventional memory */
	mov	$0x9fc00, %edx
	mov	$1, %ecx
	call	e820_add
	mov	$0x9fc00, %eax			/* EBDA */
	mov	$0x400, %edx
	mov	$2, %ecx
	call	e820_add
	mov	$0xe0000, %eax			/* firmware copy below 1 MiB */
	mov	$0x20000, %edx
	mov	$2, %ecx
	call	e820_add
	mov	$0x100000, %eax			/* extended memory */
	mov	%ebp, %edx
	sub	%eax, %edx
	mov	$1, %ecx
	call	e820_add
	mov	$FW_BASE, %eax			/* firmware at the top */
	mov	$FW_SIZE, %edx
	mov	$2, %ecx
	call	e820_add
	ret

print_e820:
	mov	$msg_e820, %esi
	call	puts32
	mov	E820_COUNT, %eax
	call	putdec32
	mov	$msg_entries, %esi
	call	puts32
	mov	$E820_MAP, %ebx
	mov	E820_COUNT, %ecx
1:	push	%ecx
	mov	$msg_e820_line, %esi
	call	puts32
	mov	0(%ebx), %eax			/* first byte */
	call	puthex32
	mov	$msg_dash, %esi
	call	puts32
	mov	0(%ebx), %eax			/* last byte */
	add	8(%ebx), %eax
	dec	%eax
	call	puthex32
	mov	$msg_usable, %esi
	cmpl	$1, 16(%ebx)
	je	2f
	mov	$msg_reserved, %esi
2:	call	puts32
	add	$20, %ebx
	pop	%ecx
	loop	1b
	ret

/* PML4 -> PDPT -> 4 PDs of 2 MiB pages: the low 4 GiB, identity. */
build_page_tables:
	mov	$PT_BASE, %edi
	mov	$(6 * 4096 / 4), %ecx
	xor	%eax, %eax
	rep stosl
	movl	$(PT_BASE + 0x1000 + 3), PT_BASE
	mov	$(PT_BASE + 0x1000), %edi
	mov	$(PT_BASE + 0x2000 + 3), %eax
	mov	$4, %ecx
1:	mov	%eax, (%edi)
	add	$0x1000, %eax
	add	$8, %edi
	loop	1b
	mov	$(PT_BASE + 0x2000), %edi
	mov	$0x83, %eax			/* present, writable, 2 MiB */
	mov	$2048, %ecx
2:	mov	%eax, (%edi)
	add	$0x200000, %eax
	add	$8, %edi
	loop	2b
	ret

putc32:
	push	%edx
	push	%eax
	mov	$UART_LSR, %dx
1:	in	%dx, %al
	test	$LSR_THRE, %al
	jz	1b
	pop	%eax
	mov	$UART_DATA, %dx
	out	%al, %dx
	pop	%edx
	ret

puts32:
	push	%eax
1:	lodsb
	test	%al, %al
	jz	2f
	call	putc32
	jmp	1b
2:	pop	%eax
	ret

/* %eax as 0x followed by 8 hex digits. */
puthex32:
	push	%ecx
	push	%edx
	mov	%eax, %edx
	mov	$'0', %al
	call	putc32
	mov	$'x', %al
	call	putc32
	mov	$8, %ecx
1:	rol	$4, %edx
	mov	%edx, %eax
	and	$0xf, %eax
	movb	hexdigits(%eax), %al
	call	putc32
	loop	1b
	pop	%edx
	pop	%ecx
	ret

/* %eax in decimal. */
putdec32:
	push	%ebx
	push	%ecx
	push	%edx
	mov	$10, %ebx
	xor	%ecx, %ecx
1:	xor	%edx, %edx
	div	%ebx
	push	%edx
	inc	%ecx
	test	%eax, %eax
	jnz	1b
2:	pop	%eax
	add	$'0', %al
	call	putc32
	loop	2b
	pop	%edx
	pop	%ecx
	pop	%ebx
	ret

/* ---------------------------------------------------------------- 64-bit */
	.code64
lm_start:
	mov	$PM_STACK, %esp
	mov	$msg_lm, %esi
	call	puts64
	mov	$msg_done, %esi
	call	puts64
	xor	%eax, %eax
	out	%al, $EXIT_PORT
1:	hlt
	jmp	1b

puts64:
	lodsb
	test	%al, %al
	jz	2f
	mov	%al, %bl
	mov	$UART_LSR, %dx
1:	in	%dx, %al
	test	$LSR_THRE, %al
	jz	1b
	mov	$UART_DATA, %dx
	mov	%bl, %al
	out	%al, %dx
	jmp	puts64
2:	ret

/* ------------------------------------------------------------------ data */
	.balign	8
gdt:
	.quad	0
	.quad	0x00cf9b000000ffff		/* 0x08: flat 32-bit code */
	.quad	0x00cf93000000ffff		/* 0x10: flat data */
	.quad	0x00af9b000000ffff		/* 0x18: 64-bit code */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt

hexdigits:	.ascii	"0123456789abcdef"
msg_reset:	.asciz	"fw: reset vector 0xFFFFFFF0, real mode\n"
msg_low:	.asciz	"fw: running at F000:xxxx (copy below 1 MiB)\n"
msg_pm:		.asciz	"fw: flat 32-bit protected mode\n"
msg_ram:	.asciz	"fw: CMOS says "
msg_mib:	.asciz	" MiB of RAM\n"
msg_e820:	.asciz	"fw: E820 map, "
msg_entries:	.asciz	" entries:\n"
msg_e820_line:	.asciz	"fw:   "
msg_dash:	.asciz	" - "
msg_usable:	.asciz	" usable\n"
msg_reserved:	.asciz	" reserved\n"
msg_pt:		.asciz	"fw: identity page tables for 4 GiB built\n"
msg_lm:		.asciz	"fw: 64-bit long mode\n"
msg_done:	.asciz	"fw: done, writing 0 to the exit port\n"

/* ------------------------------------------------------- reset vector */
	.org	0xfff0
	.code16
reset_vector:
	jmp	real_start
	.org	FW_SIZE
