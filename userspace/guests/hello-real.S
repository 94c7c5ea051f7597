/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode hello: loaded at 0x7c00 like a boot sector, prints one line on
 * the UART and halts.  minivmx-run ends the run (status 0) once every vCPU
 * has halted.
 */
#include "uart.inc"

	.code16
	.text
	.globl _start
_start:
	xor	%ax, %ax
	mov	%ax, %ds
	mov	$msg, %si
1:	lodsb
	test	%al, %al
	jz	2f
	call	putc
	jmp	1b
2:	hlt
	jmp	2b

/* Send %al once the transmitter is empty. */
putc:
	mov	%al, %bl
	mov	$UART_LSR, %dx
3:	in	%dx, %al
	test	$LSR_THRE, %al
	jz	3b
	mov	$UART_DATA, %dx
	mov	%bl, %al
	out	%al, %dx
	ret

msg:	.asciz	"Hello from real mode!\n"
