/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Long-mode guest (flat, --mode long --cpus 2): vCPU 0 waits until vCPU 1
 * is spinning in the guest, then writes 7 to the exit port.  The
 * others never leave the guest by themselves, so the runner must kick them
 * out (immediate_exit + signal) for the run to end with status 7.
 */
#include "uart.inc"

	.code64
	.text
	.globl _start
_start:
	lock incl running(%rip)
	test	%esi, %esi
	jz	vcpu0
1:	jmp	1b			/* no exit, ever */

vcpu0:
2:	pause
	cmpl	$2, running(%rip)
	jb	2b
	mov	$7, %al
	out	%al, $EXIT_PORT
3:	hlt
	jmp	3b

	.data
running: .long	0
