/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 64-bit hello, linked at 1 MiB.  Built twice: hello-long.bin (flat, run
 * with --mode long) and hello-long.elf (ELF64, long mode by default).  The
 * runner provides the GDT and identity page tables.  Ends through the exit
 * port with 0.
 */
#include "uart.inc"

	.code64
	.text
	.globl _start
_start:
	lea	msg(%rip), %rsi
1:	lodsb
	test	%al, %al
	jz	2f
	mov	%al, %bl
	mov	$UART_LSR, %dx
3:	in	%dx, %al
	test	$LSR_THRE, %al
	jz	3b
	mov	$UART_DATA, %dx
	mov	%bl, %al
	out	%al, %dx
	jmp	1b
2:	xor	%eax, %eax
	out	%al, $EXIT_PORT
	hlt

	.section .rodata
msg:	.asciz	"Hello from long mode!\n"
