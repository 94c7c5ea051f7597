/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 32-bit protected-mode hello, built as an ELF32 executable at 1 MiB: the
 * runner reads the program headers, puts the vCPU in flat protected mode
 * and jumps to the ELF entry point.  Ends through the exit port with 0.
 */
#include "uart.inc"

	.code32
	.text
	.globl _start
_start:
	mov	$msg, %esi
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
msg:	.asciz	"Hello from protected mode!\n"
