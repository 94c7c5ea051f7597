/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device checks in long mode (flat, at 1 MiB, run with --mode long and at
 * most 3G of RAM).  Each step that fails prints its number and ends the
 * run with that number as exit status; success prints "devtest: ok" and
 * exits with 0.
 *   1. unclaimed port 0x1234 reads all-ones at sizes 1, 2, 4
 *   2. MMIO scratch page at 0xD0000000 reads back 8/4/2/1-byte writes
 *   3. unclaimed MMIO (0xC0000000) reads all-ones
 *   4. string input: "rep insb" from port 0xE9 (reads 0xE9) fills 4 bytes
 *   5. string output: the final "devtest: ok" is one "rep outsb" to the
 *      UART, so only a working OUTS prints it whole
 */
#include "uart.inc"

#define UNCLAIMED_PORT	0x1234
#define SCRATCH		0xd0000000
#define UNCLAIMED_MMIO	0xc0000000

	.code64
	.text
	.globl _start
_start:
	/* 1 */
	mov	$1, %r15d
	mov	$UNCLAIMED_PORT, %dx
	in	%dx, %al
	cmp	$0xff, %al
	jne	fail
	in	%dx, %ax
	cmp	$0xffff, %ax
	jne	fail
	in	%dx, %eax
	cmp	$0xffffffff, %eax
	jne	fail
	mov	$0x55, %al
	out	%al, %dx		/* ignored, counted */

	/* 2 */
	mov	$2, %r15d
	mov	$SCRATCH, %ebx
	mov	$0x1122334455667788, %rax
	mov	%rax, (%rbx)
	mov	(%rbx), %rcx
	cmp	%rax, %rcx
	jne	fail
	movl	$0xcafef00d, 8(%rbx)
	mov	8(%rbx), %ecx
	cmp	$0xcafef00d, %ecx
	jne	fail
	movw	$0xbeef, 16(%rbx)
	movzwl	16(%rbx), %ecx
	cmp	$0xbeef, %ecx
	jne	fail
	movb	$0x5a, 24(%rbx)
	movzbl	24(%rbx), %ecx
	cmp	$0x5a, %ecx
	jne	fail
	mov	4(%rbx), %ecx		/* upper half of the first write */
	cmp	$0x11223344, %ecx
	jne	fail

	/* 3 */
	mov	$3, %r15d
	mov	$UNCLAIMED_MMIO, %ebx
	mov	(%rbx), %ecx
	cmp	$0xffffffff, %ecx
	jne	fail

	/* 4 */
	mov	$4, %r15d
	lea	buf(%rip), %rdi
	mov	$4, %ecx
	mov	$0xe9, %dx
	cld
	rep insb
	cmpl	$0xe9e9e9e9, buf(%rip)
	jne	fail
	lea	buf+4(%rip), %rax
	cmp	%rax, %rdi
	jne	fail

	/* 5 */
	mov	$5, %r15d
	lea	msg_ok(%rip), %rsi
	mov	$(msg_ok_end - msg_ok), %ecx
	mov	$UART_DATA, %dx
	rep outsb
	test	%ecx, %ecx
	jnz	fail

	xor	%eax, %eax
	out	%al, $EXIT_PORT
	hlt

/* Plain OUTs here: the failure may be in string I/O itself. */
fail:
	lea	msg_fail(%rip), %rsi
	mov	$(msg_fail_end - msg_fail), %ecx
	mov	$UART_DATA, %dx
1:	lodsb
	out	%al, %dx
	loop	1b
	mov	%r15d, %eax
	add	$'0', %al
	out	%al, %dx
	mov	$'\n', %al
	out	%al, %dx
	mov	%r15d, %eax
	out	%al, $EXIT_PORT
	hlt

	.section .rodata
msg_ok:		.ascii	"devtest: ok\n"
msg_ok_end:
msg_fail:	.ascii	"devtest: FAILED step "
msg_fail_end:

	.data
buf:	.long	0
