/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The 8042 keyboard controller in real mode (at 0x7c00), the way Linux
 * probes it: command byte with interrupts off, self test (0x55), then with
 * IRQ 1 and IRQ 12 open a byte for the absent keyboard (answered 0xFE with
 * the time-out bit, on IRQ 1) and an aux loopback (0xA5 back with the aux
 * bit, on IRQ 12 through the slave PIC).  Prints one line, then resets
 * through command 0xFE, which ends the run with status 0.  Anything else
 * prints why and exits 3.
 *   minivmx-run kbc.bin
 */
#include "uart.inc"
#include "pic.inc"

#define KBC_DATA	0x60
#define KBC_CMD		0x64
#define ST_OBF		0x01
#define ST_AUX		0x20
#define ST_TIMEOUT	0x40
#define CTR_KBDINT	0x01
#define CTR_AUXINT	0x02

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
	ivt_set 1, kbd_irq
	ivt_set 12, aux_irq
	pic_init 0xf9			/* IRQ 1 and the cascade (IRQ 2) */
	mov	$0xef, %al		/* IRQ 12: slave IR4 */
	out	%al, $PIC2_DATA

	mov	$0x00, %ah		/* no interrupts while polling */
	call	write_ctr
	mov	$0xaa, %al		/* self test */
	out	%al, $KBC_CMD
	call	wait_obf
	in	$KBC_DATA, %al
	cmp	$0x55, %al
	jne	fail

	mov	$(CTR_KBDINT | CTR_AUXINT), %ah
	call	write_ctr
	mov	$0xf2, %al		/* GET ID, for the keyboard */
	out	%al, $KBC_DATA
	mov	$kbd_seen, %bx
	call	wait_flag
	mov	$0xd3, %al		/* aux loopback */
	out	%al, $KBC_CMD
	mov	$0xa5, %al
	out	%al, $KBC_DATA
	mov	$aux_seen, %bx
	call	wait_flag

	mov	$done_msg, %si
	call	puts
	mov	$0xfe, %al		/* pulse the reset line */
	out	%al, $KBC_CMD
	hlt

/* Command byte := %ah. */
write_ctr:
	mov	$0x60, %al
	out	%al, $KBC_CMD
	mov	%ah, %al
	out	%al, $KBC_DATA
	ret

wait_obf:
	in	$KBC_CMD, %al
	test	$ST_OBF, %al
	jz	wait_obf
	ret

/* Halt with IF=1 until the byte at %bx is set (STI;HLT: no lost wakeup). */
wait_flag:
	cmpb	$0, (%bx)
	jne	1f
	sti
	hlt
	cli
	jmp	wait_flag
1:	ret

/* IRQ 1: the absent keyboard's answer, 0xFE with the time-out bit. */
kbd_irq:
	in	$KBC_CMD, %al
	and	$(ST_OBF | ST_AUX | ST_TIMEOUT), %al
	cmp	$(ST_OBF | ST_TIMEOUT), %al
	jne	fail
	in	$KBC_DATA, %al
	cmp	$0xfe, %al
	jne	fail
	movb	$1, kbd_seen
	mov	$PIC_EOI, %al
	out	%al, $PIC1_CMD
	iret

/* IRQ 12: the looped-back 0xA5 with the aux bit. */
aux_irq:
	in	$KBC_CMD, %al
	and	$(ST_OBF | ST_AUX | ST_TIMEOUT), %al
	cmp	$(ST_OBF | ST_AUX), %al
	jne	fail
	in	$KBC_DATA, %al
	cmp	$0xa5, %al
	jne	fail
	movb	$1, aux_seen
	mov	$PIC_EOI, %al
	out	%al, $PIC2_CMD
	out	%al, $PIC1_CMD
	iret

fail:
	mov	$fail_msg, %si
	call	puts
	mov	$3, %al
	out	%al, $EXIT_PORT
	hlt

	define_wrong_vector
	define_puts

kbd_seen:	.byte	0
aux_seen:	.byte	0
done_msg:	.asciz	"kbc: self test 0x55, no keyboard (0xFE on IRQ 1), aux loopback on IRQ 12\n"
fail_msg:	.asciz	"kbc: unexpected status or data\n"
wrong_msg:	.asciz	"kbc: interrupt on an unexpected vector\n"
