/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A guest that "panics" like Linux with panic=-1 (real mode, at 0x7c00):
 * a line that only mentions the panic text mid-line (no panic), then
 * "Kernel panic - not syncing: test" and at once a reset through port
 * 0xCF9, which alone would end the run with 0.  minivmx-run must see the
 * panic line and exit 3, saying "minivmx-run: guest kernel panic: test".
 *   minivmx-run panic.bin; echo $?
 */
#include "uart.inc"

#define RESET_PORT	0xcf9
#define RESET_CPU	0x06		/* SYS_RST | RST_CPU: hard reset */

	.code16
	.text
	.globl _start
_start:
	xor	%ax, %ax
	mov	%ax, %ds
	cld
	mov	$msg, %si
1:	lodsb
	test	%al, %al
	jz	2f
	call	putc
	jmp	1b
2:	mov	$RESET_PORT, %dx
	mov	$RESET_CPU, %al
	out	%al, %dx
3:	hlt				/* not reached: the reset ends the run */
	jmp	3b

/* Send %al once the transmitter is empty. */
putc:
	mov	%al, %bl
	mov	$UART_LSR, %dx
4:	in	%dx, %al
	test	$LSR_THRE, %al
	jz	4b
	mov	$UART_DATA, %dx
	mov	%bl, %al
	out	%al, %dx
	ret

msg:	.ascii	"panic: a mention of Kernel panic - not syncing: mid-line\n"
	.asciz	"Kernel panic - not syncing: test\n"
