/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Assertions about vCPU exits for kselftest-harness tests.  Include after
 * kselftest_harness.h.
 */
#ifndef MVX_TEST_H
#define MVX_TEST_H

#include <errno.h>
#include <string.h>

#include "mvx_util.h"

/* RIP right after a guest's last instruction (its HLT), loaded at CODE_GPA. */
#define END_RIP(name) (CODE_GPA + (name##_end - name##_start))

/* Runs the vCPU once and requires exit @want. */
#define ASSERT_RUN_EXIT(vcpu, want) do {				\
	int __ret = vcpu_run(vcpu);					\
									\
	ASSERT_EQ(0, __ret)						\
		TH_LOG("RUN failed: %s (%s)", strerror(errno),		\
		       describe_exit(vcpu));				\
	ASSERT_EQ((want), (vcpu)->run->exit_reason)			\
		TH_LOG("want exit %s, got %s", mvx_exit_name(want),		\
		       describe_exit(vcpu));				\
} while (0)

/* Requires a port I/O exit with the given direction, port and size. */
#define ASSERT_IO(vcpu, dir, p, sz) do {				\
	ASSERT_RUN_EXIT(vcpu, MVX_EXIT_IO);				\
	ASSERT_EQ((dir), (vcpu)->run->io.direction)			\
		TH_LOG("%s", describe_exit(vcpu));			\
	ASSERT_EQ((p), (vcpu)->run->io.port)				\
		TH_LOG("%s", describe_exit(vcpu));			\
	ASSERT_EQ((sz), (vcpu)->run->io.size)				\
		TH_LOG("%s", describe_exit(vcpu));			\
} while (0)

/* Requires a dev fd, VM with RAM and one vCPU, failing with a reason. */
#define ASSERT_SETUP(vm, vcpu) do {					\
	ASSERT_EQ(0, vm_create(vm))					\
		TH_LOG("VM on %s: %s", mvx_device(), strerror(errno));	\
	ASSERT_EQ(0, vcpu_add(vm, 0, vcpu))				\
		TH_LOG("vCPU: %s", strerror(errno));			\
} while (0)

#endif /* MVX_TEST_H */
