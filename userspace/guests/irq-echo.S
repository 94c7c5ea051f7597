/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UART receive interrupts in real mode (at 0x7c00): the 8259A pair with
 * only IRQ 4 open (vector 0x24), the UART with FIFO, OUT2 (which connects
 * its interrupt to the PIC on a PC) and the received-data interrupt.  The
 * handler drains the receiver; the main loop halts with IF=1 until a whole
 * line came, prints "irq-echo: <line>" and exits 0 through the exit port.
 * An interrupt on any other vector prints why and exits 3.
 *   echo hello | minivmx-run irq-echo.bin
 */
#include "uart.inc"
#include "pic.inc"

#define UART_IER	0x3f9
#define UART_FCR	0x3fa
#define UART_MCR	0x3fc
#define LINE_MAX	78

	.code16
	.text
	.globl _start
_start:
	cli
	cld
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	ivt_fill_irqs wrong_vector
	ivt_set 4, uart_irq
	pic_init 0xef
	mov	$UART_LCR, %dx
	mov	$0x03, %al		/* 8N1 */
	out	%al, %dx
	mov	$UART_FCR, %dx
	mov	$0x07, %al		/* FIFO on and cleared, trigger 1 */
	out	%al, %dx
	mov	$UART_MCR, %dx
	mov	$0x0b, %al		/* DTR, RTS, OUT2 */
	out	%al, %dx
	mov	$UART_IER, %dx
	mov	$0x01, %al		/* received data available */
	out	%al, %dx
	sti
1:	hlt				/* each received byte wakes us */
	cmpb	$0, line_done
	je	1b
	cli
	mov	$prefix, %si
	call	puts
	mov	$line, %si
	call	puts
	mov	$newline, %si
	call	puts
	xor	%al, %al
	out	%al, $EXIT_PORT
	hlt

/* Drain the receiver into line; '\n' ends the line. */
uart_irq:
	push	%ax
	push	%dx
	push	%di
	mov	line_end, %di
2:	mov	$UART_LSR, %dx
	in	%dx, %al
	test	$0x01, %al		/* data ready */
	jz	3f
	mov	$UART_DATA, %dx
	in	%dx, %al
	cmp	$'\n', %al
	je	4f
	cmp	$(line + LINE_MAX), %di
	jae	2b			/* too long: dropped */
	stosb
	jmp	2b
4:	movb	$1, line_done
	jmp	2b
3:	mov	%di, line_end
	mov	$PIC_EOI, %al
	out	%al, $PIC1_CMD
	pop	%di
	pop	%dx
	pop	%ax
	iret

	define_wrong_vector
	define_puts

prefix:		.asciz	"irq-echo: "
newline:	.asciz	"\n"
wrong_msg:	.asciz	"irq-echo: interrupt on an unexpected vector\n"
line_done:	.byte	0
line_end:	.word	line
line:		.fill	LINE_MAX + 2, 1, 0
