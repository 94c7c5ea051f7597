/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minivmx: enter a VMX guest once.
 *
 *   int mvx_vmx_run(u64 *gprs, u32 launched);
 *
 * Loads the guest's general purpose registers from gprs[] (enum mvx_gpr
 * order; RSP lives in the VMCS), executes VMRESUME if launched else
 * VMLAUNCH, and on VM exit stores the guest registers back.  Returns
 * 0 after a VM exit, 1 for VMfailInvalid, 2 for VMfailValid, 3 when a VMX
 * instruction faulted because VMX is off (MVX_VMX_LOST).
 *
 * HOST_RIP is the instruction right after VMLAUNCH, so the code after a VM
 * exit is ordinary straight-line code for objtool and the unwinder: a VM
 * exit clears RFLAGS (SDM 28.5.3), a VMfail sets CF or ZF, and one JBE tells
 * the two apart.  HOST_RSP is written here because it depends on the stack
 * depth of this call.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

#define VMCS_HOST_RSP	0x6c14		/* SDM Appendix B.4.4 */
#define VMCS_HOST_RIP	0x6c16

#define G_RAX	0*8
#define G_RCX	1*8
#define G_RDX	2*8
#define G_RBX	3*8
#define G_RBP	5*8
#define G_RSI	6*8
#define G_RDI	7*8
#define G_R8	8*8
#define G_R9	9*8
#define G_R10	10*8
#define G_R11	11*8
#define G_R12	12*8
#define G_R13	13*8
#define G_R14	14*8
#define G_R15	15*8

	.text
SYM_FUNC_START(mvx_vmx_run)
	push	%rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
	/* gprs[] pointer: the first thing found on the stack after VM exit */
	push	%rdi

	lea	.Lvmx_exit(%rip), %rax
	mov	$VMCS_HOST_RIP, %ecx
.Lvmwrite_rip:
	vmwrite	%rax, %rcx
	mov	$VMCS_HOST_RSP, %ecx
.Lvmwrite_rsp:
	vmwrite	%rsp, %rcx

	/*
	 * CF = launched: survives the MOVs below and VERW (which writes only
	 * ZF).
	 */
	bt	$0, %esi

	mov	G_RAX(%rdi), %rax
	mov	G_RCX(%rdi), %rcx
	mov	G_RDX(%rdi), %rdx
	mov	G_RBX(%rdi), %rbx
	mov	G_RBP(%rdi), %rbp
	mov	G_RSI(%rdi), %rsi
	mov	G_R8(%rdi), %r8
	mov	G_R9(%rdi), %r9
	mov	G_R10(%rdi), %r10
	mov	G_R11(%rdi), %r11
	mov	G_R12(%rdi), %r12
	mov	G_R13(%rdi), %r13
	mov	G_R14(%rdi), %r14
	mov	G_R15(%rdi), %r15
	mov	G_RDI(%rdi), %rdi

	/*
	 * Speculation: clear the CPU's buffers (MDS, TAA, MMIO stale data,
	 * RFDS) so the guest cannot sample what the host left there; patched
	 * in only where the kernel found the CPU affected.
	 */
	VM_CLEAR_CPU_BUFFERS

	jnc	.Lvmx_launch
.Lvmresume:
	vmresume
	jmp	.Lvmx_exit
.Lvmx_launch:
	vmlaunch

.Lvmx_exit:
	/* VM exit lands here (HOST_RIP), and so does a failed VMLAUNCH. */
	ENDBR
	jbe	.Lvmx_fail

	push	%rax
	mov	8(%rsp), %rax
	mov	%rcx, G_RCX(%rax)
	mov	%rdx, G_RDX(%rax)
	mov	%rbx, G_RBX(%rax)
	mov	%rbp, G_RBP(%rax)
	mov	%rsi, G_RSI(%rax)
	mov	%rdi, G_RDI(%rax)
	mov	%r8, G_R8(%rax)
	mov	%r9, G_R9(%rax)
	mov	%r10, G_R10(%rax)
	mov	%r11, G_R11(%rax)
	mov	%r12, G_R12(%rax)
	mov	%r13, G_R13(%rax)
	mov	%r14, G_R14(%rax)
	mov	%r15, G_R15(%rax)
	pop	%rcx
	mov	%rcx, G_RAX(%rax)
	xor	%eax, %eax
	jmp	.Lvmx_out

.Lvmx_fail:
	/* CF=1: VMfailInvalid, ZF=1: VMfailValid; MOV keeps the flags. */
	mov	$2, %eax
	jnc	.Lvmx_out
	mov	$1, %eax
	jmp	.Lvmx_out

	/*
	 * VMX was turned off underneath us (#UD): the stack is as it was at
	 * VMLAUNCH, so the common exit path unwinds it and clears the guest
	 * values still in registers.
	 */
.Lvmx_fault:
	mov	$3, %eax

.Lvmx_out:
	/*
	 * Speculation, before the first RET after the exit: overwrite the
	 * return stack buffer the guest may have filled with its own targets
	 * (a full fill, or the one-entry PBRSB form on eIBRS parts), then the
	 * branch history (BHI) where the kernel does that on VM exit.  Only
	 * where the kernel's mitigations patched these in; %eax is the result.
	 */
	push	%rax
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, X86_FEATURE_RSB_VMEXIT_LITE
	CLEAR_BRANCH_HISTORY_VMEXIT
	pop	%rax

	/* Do not leave guest values in caller-saved registers. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	pop	%rdi
	xor	%edi, %edi
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

	_ASM_EXTABLE(.Lvmwrite_rip, .Lvmx_fault)
	_ASM_EXTABLE(.Lvmwrite_rsp, .Lvmx_fault)
	_ASM_EXTABLE(.Lvmresume, .Lvmx_fault)
	_ASM_EXTABLE(.Lvmx_launch, .Lvmx_fault)
SYM_FUNC_END(mvx_vmx_run)
