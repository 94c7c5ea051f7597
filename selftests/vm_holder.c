// SPDX-License-Identifier: GPL-2.0
/*
 * vm_holder: creates a VM with one vCPU on $MVX_DEVICE and runs a tiny
 * guest to HLT, for run_tests' coexistence checks with KVM.
 *
 *   vm_holder          then prints "holding" and keeps the VM until killed
 *   vm_holder --once   exits right after the guest halted
 *
 * Exit status 0 when the guest ran to HLT; otherwise 1 and one line with
 * the step and errno that failed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mvx_util.h"

GUEST_CODE(holder_guest,
	".code16\n"
	"movw $0x600d, (0x3000)\n"
	"hlt\n");

int main(int argc, char **argv)
{
	bool once = argc > 1 && !strcmp(argv[1], "--once");
	struct tvm vm;
	struct tvcpu vcpu;

	if (vm_create(&vm)) {
		printf("vm_holder: VM on %s: %s\n", mvx_device(), strerror(errno));
		return 1;
	}
	if (vcpu_add(&vm, 0, &vcpu)) {
		printf("vm_holder: vCPU: %s\n", strerror(errno));
		return 1;
	}
	guest_load(&vm, CODE_GPA, holder_guest_start, holder_guest_end);
	if (vcpu_set_mode(&vcpu, MODE_REAL, CODE_GPA) || vcpu_run(&vcpu)) {
		printf("vm_holder: RUN: %s\n", strerror(errno));
		return 1;
	}
	if (vcpu.run->exit_reason != MVX_EXIT_HLT ||
	    rd32(&vm, DATA_GPA) != 0x600d) {
		printf("vm_holder: guest did not halt: %s\n",
		       describe_exit(&vcpu));
		return 1;
	}
	if (once)
		return 0;
	printf("holding\n");
	fflush(stdout);
	for (;;)
		pause();
}
