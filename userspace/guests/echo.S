/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode UART input check (at 0x7c00): reads one line from the UART
 * (minivmx-run feeds it from stdin), prints "echo: <line>" and halts.
 *   echo hello | minivmx-run echo.bin
 */
#include "uart.inc"

	.code16
	.text
	.globl _start
_start:
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	$line, %di
1:	mov	$UART_LSR, %dx
2:	in	%dx, %al
	test	$0x01, %al		/* data ready */
	jz	2b
	mov	$UART_DATA, %dx
	in	%dx, %al
	stosb
	cmp	$'\n', %al
	je	3f
	cmp	$(line + 78), %di
	jb	1b
3:	movb	$0, (%di)
	mov	$prefix, %si
	call	puts
	mov	$line, %si
	call	puts
4:	hlt
	jmp	4b

puts:
	lodsb
	test	%al, %al
	jz	6f
	mov	%al, %bl
	mov	$UART_LSR, %dx
5:	in	%dx, %al
	test	$LSR_THRE, %al
	jz	5b
	mov	$UART_DATA, %dx
	mov	%bl, %al
	out	%al, %dx
	jmp	puts
6:	ret

prefix:	.asciz	"echo: "
line:	.fill	80, 1, 0
