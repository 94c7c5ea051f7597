/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Timer interrupts in real mode (at 0x7c00): programs the 8259A pair
 * (vectors 0x20-0x2F, only IRQ 0 open) and the 8254's counter 0 in mode 2
 * at about 1000 Hz, then halts with IF=1 until 100 IRQ 0 interrupts came,
 * each acknowledged with an EOI.  Prints one line and exits 0 through the
 * exit port; an interrupt on any other vector prints why and exits 3.
 *   minivmx-run timer.bin
 */
#include "uart.inc"
#include "pic.inc"

#define PIT_CH0		0x40
#define PIT_CTRL	0x43
#define PIT_DIVISOR	1193	/* 1193182 Hz / 1193: 1000 Hz */
#define TICKS_WANTED	100

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
	ivt_set 0, timer_irq
	pic_init 0xfe
	mov	$0x34, %al		/* counter 0, LSB then MSB, mode 2 */
	out	%al, $PIT_CTRL
	mov	$(PIT_DIVISOR & 0xff), %al
	out	%al, $PIT_CH0
	mov	$(PIT_DIVISOR >> 8), %al
	out	%al, $PIT_CH0
	sti
1:	hlt				/* the next tick wakes us */
	cmpw	$TICKS_WANTED, ticks
	jb	1b
	cli
	mov	$done_msg, %si
	call	puts
	xor	%al, %al
	out	%al, $EXIT_PORT
	hlt

timer_irq:
	push	%ax
	incw	%cs:ticks
	mov	$PIC_EOI, %al
	out	%al, $PIC1_CMD
	pop	%ax
	iret

	define_wrong_vector
	define_puts

ticks:		.word	0
done_msg:	.asciz	"timer: 100 interrupts on IRQ 0, vector 0x20\n"
wrong_msg:	.asciz	"timer: interrupt on an unexpected vector\n"
