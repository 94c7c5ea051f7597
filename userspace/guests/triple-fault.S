/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Long-mode guest (flat, --mode long) that triple-faults on purpose: with
 * an empty IDT, #UD becomes #GP, then #DF, then a shutdown.  minivmx-run
 * must report the SHUTDOWN exit with the RIP and exit with status 2.
 */
	.code64
	.text
	.globl _start
_start:
	lidt	idt_desc(%rip)
	ud2

	.data
idt_desc:
	.word	0
	.quad	0
