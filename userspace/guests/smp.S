/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Multi-vCPU hello in long mode (flat, at 1 MiB, run with --mode long
 * --cpus N).  Every vCPU starts here with its id in RSI and its own stack;
 * they take turns through a shared counter so the lines come out in id
 * order, then halt.  When all have halted the run ends with status 0.
 */
#include "uart.inc"

	.code64
	.text
	.globl _start
_start:
	mov	%esi, %r12d		/* our vCPU id */
1:	pause
	mov	turn(%rip), %eax
	cmp	%r12d, %eax
	jne	1b

	lea	msg(%rip), %rsi
	call	puts
	mov	%r12d, %eax
	call	putdec
	lea	msg_end(%rip), %rsi
	call	puts

	lock incl turn(%rip)
2:	hlt
	jmp	2b

/* Print the string at %rsi. */
puts:
	lodsb
	test	%al, %al
	jz	1f
	call	putc
	jmp	puts
1:	ret

/* Print %eax (0..99) in decimal. */
putdec:
	xor	%edx, %edx
	mov	$10, %ecx
	div	%ecx
	test	%eax, %eax
	jz	1f
	add	$'0', %al
	push	%rdx
	call	putc
	pop	%rdx
1:	lea	'0'(%rdx), %eax
	jmp	putc

/* Send %al once the transmitter is empty. */
putc:
	push	%rdx
	mov	%al, %bl
	mov	$UART_LSR, %dx
1:	in	%dx, %al
	test	$LSR_THRE, %al
	jz	1b
	mov	$UART_DATA, %dx
	mov	%bl, %al
	out	%al, %dx
	pop	%rdx
	ret

	.section .rodata
msg:	.asciz	"Hello from vCPU "
msg_end: .asciz	"\n"

	.data
	.balign	64
turn:	.long	0
