/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One trip into an SVM guest.
 *
 * void mvx_svm_vmrun(u64 *gprs, u64 vmcb_pa, u64 host_vmcb_pa)
 *
 * Called with GIF = 0 (the caller ran CLGI) and interrupts off.  VMRUN and
 * #VMEXIT switch only part of the CPU state; FS, GS, TR and LDTR with their
 * hidden parts, KERNEL_GS_BASE, STAR/LSTAR/CSTAR/SFMASK and SYSENTER_* are
 * moved with VMSAVE/VMLOAD here, where no C code (and so no per-CPU access
 * through the guest's GS) can run in between.  RAX, RSP, RIP and RFLAGS go
 * through the VMCB; the other fifteen guest GPRs through gprs[], indexed in
 * the order of enum mvx_gpr.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

#define GPR(n)	((n) * 8)
#define RCX	GPR(1)
#define RDX	GPR(2)
#define RBX	GPR(3)
#define RBP	GPR(5)
#define RSI	GPR(6)
#define RDI	GPR(7)
#define R8	GPR(8)
#define R9	GPR(9)
#define R10	GPR(10)
#define R11	GPR(11)
#define R12	GPR(12)
#define R13	GPR(13)
#define R14	GPR(14)
#define R15	GPR(15)

/* Stack slots below the callee-saved registers. */
#define SLOT_HOST_VMCB	0
#define SLOT_VMCB	8
#define SLOT_GPRS	16

	.section .text, "ax"

SYM_FUNC_START(mvx_svm_vmrun)
	push	%rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	push	%rdi			/* SLOT_GPRS */
	push	%rsi			/* SLOT_VMCB */
	push	%rdx			/* SLOT_HOST_VMCB */

	/* Host FS/GS/TR/LDTR and syscall MSRs out, the guest's in. */
	mov	%rdx, %rax
.Lvmsave_host:
	vmsave	%rax
	mov	%rsi, %rax
.Lvmload_guest:
	vmload	%rax

	mov	RCX(%rdi), %rcx
	mov	RDX(%rdi), %rdx
	mov	RBX(%rdi), %rbx
	mov	RBP(%rdi), %rbp
	mov	RSI(%rdi), %rsi
	mov	R8(%rdi), %r8
	mov	R9(%rdi), %r9
	mov	R10(%rdi), %r10
	mov	R11(%rdi), %r11
	mov	R12(%rdi), %r12
	mov	R13(%rdi), %r13
	mov	R14(%rdi), %r14
	mov	R15(%rdi), %r15
	mov	RDI(%rdi), %rdi

	mov	SLOT_VMCB(%rsp), %rax

	/*
	 * Speculation: clear the CPU's buffers (VERW) where the kernel does
	 * so before VMRUN; writes only ZF.
	 */
	VM_CLEAR_CPU_BUFFERS

	/* RFLAGS.IF is already 1 (svm_vcpu_enter): see there why not here. */
.Lvmrun:
	vmrun	%rax
.Lvmrun_fault:

	/* Guest RDI out first: its register is needed for the gprs pointer. */
	push	%rdi
	mov	SLOT_GPRS + 8(%rsp), %rdi
	mov	%rcx, RCX(%rdi)
	mov	%rdx, RDX(%rdi)
	mov	%rbx, RBX(%rdi)
	mov	%rbp, RBP(%rdi)
	mov	%rsi, RSI(%rdi)
	mov	%r8, R8(%rdi)
	mov	%r9, R9(%rdi)
	mov	%r10, R10(%rdi)
	mov	%r11, R11(%rdi)
	mov	%r12, R12(%rdi)
	mov	%r13, R13(%rdi)
	mov	%r14, R14(%rdi)
	mov	%r15, R15(%rdi)
	pop	RDI(%rdi)

	mov	SLOT_VMCB(%rsp), %rax
.Lvmsave_guest:
	vmsave	%rax
.Lvmsave_guest_done:
	mov	SLOT_HOST_VMCB(%rsp), %rax
.Lvmload_host:
	vmload	%rax
.Lvmload_host_done:

	/* Leave no guest value in a register for speculation to use. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	/* The guest may have filled the return stack buffer: overwrite it. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	/*
	 * Speculation: untrain the return predictor (Retbleed, SRSO) and issue
	 * the IBPB the kernel wants on VM exit, as its own entry code would;
	 * may clobber RAX, RCX, RDX.  6.1 has no UNTRAIN_RET_VM yet.
	 */
#ifdef UNTRAIN_RET_VM
	UNTRAIN_RET_VM
#else
	UNTRAIN_RET
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT
#endif

.Lsvm_out:
	add	$24, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

	/*
	 * SVM turned off underneath us (#UD; the caller sees the exit code it
	 * planted, MVX_SVM_EXIT_LOST).  Before VMLOAD of the guest nothing is
	 * changed yet: just return.  Once that VMLOAD has run SVME was set
	 * and GIF is 0, which holds off even NMIs, so the later instructions
	 * cannot lose SVM; their entries only keep every one of them covered,
	 * and go on along the normal path.
	 */
	_ASM_EXTABLE(.Lvmsave_host, .Lsvm_out)
	_ASM_EXTABLE(.Lvmload_guest, .Lsvm_out)
	_ASM_EXTABLE(.Lvmrun, .Lvmrun_fault)
	_ASM_EXTABLE(.Lvmsave_guest, .Lvmsave_guest_done)
	_ASM_EXTABLE(.Lvmload_host, .Lvmload_host_done)
SYM_FUNC_END(mvx_svm_vmrun)
