# SPDX-License-Identifier: GPL-2.0
#
# minivmx: build, lint and test.  See README.md.
#
#   make                 minivmx.ko for every installed Debian -amd64 kernel
#                        (build/<release>/minivmx.ko), the runner, the selftests
#   make KDIR=<dir>      the module for that one kernel tree only
#   make lint            checkpatch --strict and a sparse build (C=2), every kernel
#   make check           lint, host unit tests, selftests in every emulated PC
#                        CELLS="qemu-6.12 bochs-6.12"  SELFTESTS="guest_test"
#   make debug-kernel    build (once, cached outside the clone) the 6.12 kernel
#                        with KASAN, UBSAN, lockdep and kmemleak
#   make check-debug     the selftests in QEMU on that kernel, judged by its
#                        checkers (opt-in; not part of make check)
#   make demo            the example firmware under minivmx-run in an emulated PC
#   make bench           minivmx vs KVM microbenchmarks (scripts/bench)
#   make clean
#
# Each kernel's module is built in its own copy of the sources under
# build/mod-<release>/, so objects of different kernels never mix.

ROOT  := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(ROOT)/build
KSRC  := $(BUILD)/ksrc

# The kernels to build for: KDIR, else every Debian -amd64 headers tree plus
# the running kernel's build tree (a real VT-x host runs the module there).
ifneq ($(KDIR),)
KDIRS := $(realpath $(KDIR))
ifeq ($(KDIRS),)
$(error KDIR=$(KDIR) does not exist)
endif
else
KDIRS := $(sort $(realpath $(wildcard /usr/src/linux-headers-*-amd64) \
			   $(wildcard /lib/modules/$(shell uname -r)/build)))
endif

# The release the kernel reports (uname -r), which names /boot/vmlinuz-*;
# Debian's include/config/kernel.release can differ (6.1.192 vs 6.1.0-56-amd64).
release = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(1)/include/generated/utsrelease.h 2>/dev/null)
KVERS := $(foreach d,$(KDIRS),$(call release,$(d)))
MODULES := $(foreach v,$(KVERS),$(BUILD)/$(v)/minivmx.ko)
MODULE_SOURCES := Kbuild VERSION module uapi

# Checked by "make lint".
LINT_FILES = $(wildcard $(ROOT)/module/*.[ch] $(ROOT)/uapi/*.h)

# The kernel source tarball that holds checkpatch and the kselftest headers.
KSRC_TAR := $(firstword $(wildcard /usr/src/linux-source-6.12.tar.xz) \
			$(wildcard /usr/src/linux-source-*.tar.xz))
KSRC_FILES := scripts/checkpatch.pl scripts/spelling.txt \
	      scripts/const_structs.checkpatch \
	      tools/testing/selftests/kselftest.h \
	      tools/testing/selftests/kselftest_harness.h

CELLS ?=
SELFTESTS ?=
LINT ?= 1

.PHONY: all modules userspace selftests ksrc lint checkpatch sparse check \
	unit demo bench clean debug-kernel check-debug FORCE

all: modules userspace selftests

modules: $(MODULES)
ifeq ($(MODULES),)
	@echo "no kernel headers found: run scripts/install-deps or pass KDIR=" >&2
	@false
endif

# $(1) release, $(2) kernel build dir
define module_rule
$(BUILD)/$(1)/minivmx.ko: FORCE
	@mkdir -p $(BUILD)/mod-$(1) $(BUILD)/$(1)
	@# Copy the sources, keeping their times so kbuild rebuilds only what
	@# changed; sources deleted here must vanish from the copy too.
	@find $(BUILD)/mod-$(1) -name '*.[chS]' -delete
	@cp -pR $(MODULE_SOURCES) $(BUILD)/mod-$(1)/
	$$(MAKE) -C $(2) M=$(BUILD)/mod-$(1) W=1 modules
	@cp -p $(BUILD)/mod-$(1)/minivmx.ko $$@
	@echo "  MODULE  $$@"

sparse-$(1): FORCE
	@mkdir -p $(BUILD)/mod-$(1)
	@find $(BUILD)/mod-$(1) -name '*.[chS]' -delete
	@cp -pR $(MODULE_SOURCES) $(BUILD)/mod-$(1)/
	@echo "  SPARSE  $(1)"
	+@$$(MAKE) -s -C $(2) M=$(BUILD)/mod-$(1) W=1 C=2 modules \
		> $(BUILD)/sparse-$(1).log 2>&1; rc=$$$$?; \
	if [ $$$$rc -ne 0 ] || grep -E 'warning:|error:' $(BUILD)/sparse-$(1).log; then \
		cat $(BUILD)/sparse-$(1).log; \
		echo "sparse/W=1 build for $(1) is not clean" >&2; exit 1; \
	fi
endef
$(foreach d,$(KDIRS),$(eval $(call module_rule,$(call release,$(d)),$(d))))

userspace:
	$(MAKE) -C userspace

selftests: ksrc
	$(MAKE) -C selftests

# checkpatch and the kselftest headers, extracted once from the Debian
# linux-source package (tar must read the whole archive: ~1 minute).
ksrc:
	@for f in $(KSRC_FILES); do [ -f $(KSRC)/$$f ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
		if [ -z "$(KSRC_TAR)" ]; then \
			echo "no /usr/src/linux-source-*.tar.xz: run scripts/install-deps" >&2; \
			exit 1; \
		fi; \
		echo "  EXTRACT $(KSRC) from $(KSRC_TAR)"; \
		mkdir -p $(KSRC) && \
		prefix=$$(basename $(KSRC_TAR) .tar.xz) && \
		tar -xJf $(KSRC_TAR) -C $(KSRC) --strip-components=1 \
			$(addprefix $$prefix/,$(KSRC_FILES)); \
	fi

lint: checkpatch sparse

checkpatch: ksrc
	@echo "  CHECKPATCH module/ uapi/"
	@$(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse --show-types \
		--no-summary -f $(LINT_FILES)

sparse: $(foreach v,$(KVERS),sparse-$(v))

check: all
	@CELLS="$(CELLS)" SELFTESTS="$(SELFTESTS)" LINT="$(LINT)" \
		MAKE="$(MAKE)" $(ROOT)/scripts/check

debug-kernel:
	$(ROOT)/scripts/debug-kernel

# The module for the debug kernel is built by scripts/check-debug itself
# (make KDIR=<the debug tree>), which also builds that kernel if missing.
check-debug: userspace selftests
	@SELFTESTS="$(SELFTESTS)" MAKE="$(MAKE)" $(ROOT)/scripts/check-debug

unit:
	$(MAKE) -C userspace check

demo:
	$(ROOT)/scripts/demo

bench: all
	$(ROOT)/scripts/bench $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)/mod-* $(foreach v,$(KVERS),$(BUILD)/$(v)) \
		$(BUILD)/sparse-*.log $(BUILD)/vmtest $(BUILD)/check
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean

FORCE:
