// SPDX-License-Identifier: GPL-2.0
/*
 * System-level ioctls on the device fd: API version, VM creation,
 * CHECK_EXTENSION, the run-page size, the MSR index list and CPUID.
 */
#include <errno.h>
#include <stdlib.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define MSR_STAR	0xc0000081
#define MSR_LSTAR	0xc0000082

FIXTURE(sys) {
	int fd;
};

FIXTURE_SETUP(sys)
{
	self->fd = mvx_open();
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s: %s", mvx_device(), strerror(errno));
}

FIXTURE_TEARDOWN(sys)
{
	close(self->fd);
}

TEST_F(sys, api_version)
{
	EXPECT_EQ(12, ioctl(self->fd, MVX_GET_API_VERSION, 0));
	/* The argument must be 0. */
	EXPECT_EQ(-1, ioctl(self->fd, MVX_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(sys, create_vm)
{
	int vm = ioctl(self->fd, MVX_CREATE_VM, 0);

	ASSERT_LE(0, vm) TH_LOG("CREATE_VM: %s", strerror(errno));
	EXPECT_NE(self->fd, vm);
	EXPECT_EQ(0, close(vm));
}

TEST_F(sys, create_vm_bad_type)
{
	EXPECT_EQ(-1, ioctl(self->fd, MVX_CREATE_VM, 0xff));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, MVX_CREATE_VM, -1L));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(sys, create_many_vms)
{
	int vms[16], i;

	for (i = 0; i < 16; i++) {
		vms[i] = ioctl(self->fd, MVX_CREATE_VM, 0);
		ASSERT_LE(0, vms[i]) TH_LOG("VM %d: %s", i, strerror(errno));
	}
	/* Close in a different order than created. */
	for (i = 0; i < 16; i += 2)
		EXPECT_EQ(0, close(vms[i]));
	for (i = 1; i < 16; i += 2)
		EXPECT_EQ(0, close(vms[i]));
}

TEST_F(sys, check_extension_supported)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	int nr_vcpus, max_vcpus, max_id;

	EXPECT_LT(0, ioctl(self->fd, MVX_CHECK_EXTENSION, MVX_CAP_USER_MEMORY));
	EXPECT_LT(0, ioctl(self->fd, MVX_CHECK_EXTENSION, MVX_CAP_SET_TSS_ADDR));
	EXPECT_LT(0, ioctl(self->fd, MVX_CHECK_EXTENSION, MVX_CAP_EXT_CPUID));
	EXPECT_LT(0, ioctl(self->fd, MVX_CHECK_EXTENSION,
			   MVX_CAP_IMMEDIATE_EXIT));
	EXPECT_LE(32, ioctl(self->fd, MVX_CHECK_EXTENSION,
			    MVX_CAP_NR_MEMSLOTS));

	nr_vcpus = ioctl(self->fd, MVX_CHECK_EXTENSION, MVX_CAP_NR_VCPUS);
	max_vcpus = ioctl(self->fd, MVX_CHECK_EXTENSION, MVX_CAP_MAX_VCPUS);
	max_id = ioctl(self->fd, MVX_CHECK_EXTENSION, MVX_CAP_MAX_VCPU_ID);
	/* At least as many vCPUs as host CPUs, up to a stated maximum. */
	EXPECT_LE(online, nr_vcpus);
	EXPECT_LE(nr_vcpus, max_vcpus);
	EXPECT_LE(max_vcpus, max_id);
}

TEST_F(sys, check_extension_unknown)
{
	/* Unknown capabilities are reported absent, not as errors. */
	EXPECT_EQ(0, ioctl(self->fd, MVX_CHECK_EXTENSION, 0x7fffffffL));
	EXPECT_EQ(0, ioctl(self->fd, MVX_CHECK_EXTENSION, 100000L));
	EXPECT_EQ(0, ioctl(self->fd, MVX_CHECK_EXTENSION, -1L));
}

TEST_F(sys, vcpu_mmap_size)
{
	int size = ioctl(self->fd, MVX_GET_VCPU_MMAP_SIZE, 0);

	/* The run page plus the port I/O data page at least. */
	EXPECT_LE((int)((MVX_PIO_PAGE_OFFSET + 1) * PAGE_SIZE), size);
	EXPECT_EQ(0, size % PAGE_SIZE);
	EXPECT_LE(sizeof(struct mvx_run), (size_t)size);
	EXPECT_EQ(-1, ioctl(self->fd, MVX_GET_VCPU_MMAP_SIZE, 1));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(sys, msr_index_list)
{
	struct mvx_msr_list probe = { .nmsrs = 0 };
	struct mvx_msr_list *list;
	bool star = false, lstar = false;
	unsigned int i, j, n;

	/* Too small: E2BIG, and nmsrs says how many are needed. */
	ASSERT_EQ(-1, ioctl(self->fd, MVX_GET_MSR_INDEX_LIST, &probe));
	ASSERT_EQ(E2BIG, errno);
	n = probe.nmsrs;
	ASSERT_LT(0, n);
	ASSERT_GT(1024, n);

	list = calloc(1, sizeof(*list) + n * sizeof(list->indices[0]));
	list->nmsrs = n;
	ASSERT_EQ(0, ioctl(self->fd, MVX_GET_MSR_INDEX_LIST, list))
		TH_LOG("%s", strerror(errno));
	ASSERT_EQ(n, list->nmsrs);
	for (i = 0; i < n; i++) {
		star |= list->indices[i] == MSR_STAR;
		lstar |= list->indices[i] == MSR_LSTAR;
		for (j = 0; j < i; j++)
			EXPECT_NE(list->indices[j], list->indices[i])
				TH_LOG("MSR %#x listed twice", list->indices[i]);
	}
	/* A 64-bit guest cannot work without the SYSCALL MSRs. */
	EXPECT_TRUE(star);
	EXPECT_TRUE(lstar);

	/* One short is still too small. */
	list->nmsrs = n - 1;
	EXPECT_EQ(-1, ioctl(self->fd, MVX_GET_MSR_INDEX_LIST, list));
	EXPECT_EQ(E2BIG, errno);
	free(list);

	EXPECT_EQ(-1, ioctl(self->fd, MVX_GET_MSR_INDEX_LIST, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, MVX_GET_MSR_INDEX_LIST,
			    (void *)0xffff800000000000UL));
	EXPECT_EQ(EFAULT, errno);
}

static struct mvx_cpuid_entry2 *find_leaf(struct mvx_cpuid2 *c, uint32_t fn)
{
	unsigned int i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn)
			return &c->entries[i];
	return NULL;
}

TEST_F(sys, supported_cpuid)
{
	size_t sz = sizeof(struct mvx_cpuid2) +
		    256 * sizeof(struct mvx_cpuid_entry2);
	struct mvx_cpuid2 *c = calloc(1, sz);
	struct mvx_cpuid_entry2 *leaf0, *leaf1;

	c->nent = 256;
	ASSERT_EQ(0, ioctl(self->fd, MVX_GET_SUPPORTED_CPUID, c))
		TH_LOG("%s", strerror(errno));
	ASSERT_LE(2, c->nent);
	ASSERT_GE(256, c->nent);
	leaf0 = find_leaf(c, 0);
	leaf1 = find_leaf(c, 1);
	ASSERT_NE(NULL, leaf0);
	ASSERT_NE(NULL, leaf1);
	EXPECT_LE(1, leaf0->eax);
	/* A vendor string is there. */
	EXPECT_NE(0, leaf0->ebx | leaf0->ecx | leaf0->edx);
	/* FPU, TSC, MSR, PAE, CX8, CMOV, FXSR, SSE, SSE2: x86-64 baseline. */
	EXPECT_EQ(0, ~leaf1->edx & ((1u << 0) | (1u << 4) | (1u << 5) |
				    (1u << 6) | (1u << 8) | (1u << 15) |
				    (1u << 24) | (1u << 25) | (1u << 26)))
		TH_LOG("leaf 1 edx %#x", leaf1->edx);
	free(c);
}

TEST_F(sys, supported_cpuid_too_small)
{
	struct {
		struct mvx_cpuid2 c;
		struct mvx_cpuid_entry2 e[1];
	} small;

	memset(&small, 0, sizeof(small));
	small.c.nent = 0;
	EXPECT_EQ(-1, ioctl(self->fd, MVX_GET_SUPPORTED_CPUID, &small));
	EXPECT_EQ(E2BIG, errno);
	small.c.nent = 1;
	EXPECT_EQ(-1, ioctl(self->fd, MVX_GET_SUPPORTED_CPUID, &small));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, ioctl(self->fd, MVX_GET_SUPPORTED_CPUID, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(sys, unknown_ioctls)
{
	int ret;

	ret = ioctl(self->fd, _IO(MVXIO, 0xff), 0);
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EINVAL || errno == ENOTTY) TH_LOG("%d", errno);
	/* VM- and vCPU-level ioctls mean nothing on the device fd. */
	ret = ioctl(self->fd, MVX_RUN, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EINVAL || errno == ENOTTY) TH_LOG("%d", errno);
	ret = ioctl(self->fd, MVX_CREATE_VCPU, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EINVAL || errno == ENOTTY) TH_LOG("%d", errno);
	ret = ioctl(self->fd, TCGETS, NULL);
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EINVAL || errno == ENOTTY) TH_LOG("%d", errno);
}

TEST(device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(mvx_device(), &st)) TH_LOG("%s", mvx_device());
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	if (mvx_is_kvm())
		SKIP(return, "KVM's node mode is the distribution's choice");
	/* Issue 3: root only unless the module parameters say otherwise. */
	EXPECT_EQ(0600, st.st_mode & 0777) TH_LOG("mode %o", st.st_mode);
}

TEST(unprivileged_open)
{
	struct stat st;
	pid_t pid;
	int status;

	ASSERT_EQ(0, stat(mvx_device(), &st));
	if (geteuid() != 0)
		SKIP(return, "needs root to drop privileges");
	if (st.st_mode & 0006)
		SKIP(return, "%s is world-accessible by configuration",
		     mvx_device());
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
		fd = mvx_open();
		_exit(fd < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("nobody could open %s (or could not drop privileges)",
		       mvx_device());
}

/* run_tests loads the module with gid=N mode=0660 and runs this alone. */
TEST(group_open)
{
	FILE *f = fopen("/sys/module/minivmx/parameters/gid", "r");
	unsigned int gid = 0;
	pid_t pid;
	int status;

	if (mvx_is_kvm() || !f || fscanf(f, "%u", &gid) != 1 || gid == 0)
		SKIP(return, "minivmx not loaded with a gid= parameter");
	fclose(f);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		gid_t groups[1] = { gid };
		int fd;

		if (setgroups(1, groups) || setgid(65534) || setuid(65534))
			_exit(2);
		fd = mvx_open();
		if (fd < 0)
			_exit(1);
		/* And it is usable, not only openable. */
		_exit(ioctl(fd, MVX_GET_API_VERSION, 0) == 12 ? 0 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("a member of group %u could not use %s (status %d)",
		       gid, mvx_device(), WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
