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
#   make soak            make check with the full amounts in every cell: 200,000
#                        fuzz ops, 100 load cycles, both kernels on KVM too
#   make debug-kernel    build (once, cached outside the clone) the 6.12 kernel
#                        with KASAN, UBSAN, lockdep and kmemleak
#   make check-debug     the selftests in QEMU on that kernel, judged by its
#                        checkers (opt-in; not part of make check)
#   make demo            the example firmware, then Linux to a shell prompt, under minivmx-run in an emulated PC
#   make bench           minivmx vs KVM microbenchmarks (scripts/bench)
#   make install         the module (into /lib/modules/<release>/updates, for
#                        every kernel built), minivmx-run, exit-stats, the
#                        uapi header, man pages, udev rule, modprobe.d example
#                        DESTDIR=<staging dir>  PREFIX=/usr/local (default)
#   make uninstall       remove what make install installed
#   make dkms-install    copy the module sources to /usr/src/minivmx-<version>,
#                        dkms add + dkms install for every kernel with headers
#   make dkms-uninstall  dkms remove --all, and the sources
#   make man             build/man/*: the man pages with the version filled in
#   make check-install   the install paths (scripts/check-install; a step
#                        of make check): man pages, make install DESTDIR=,
#                        dkms build for every kernel, one QEMU boot
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

# The one version string of minivmx: MODULE_VERSION (Kbuild), minivmx-run
# --version (userspace/Makefile), PACKAGE_VERSION (dkms.conf), the man pages.
VERSION := $(shell cat $(ROOT)/VERSION)

# Installation (make install, make uninstall).
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
INCLUDEDIR := $(PREFIX)/include
MANDIR := $(PREFIX)/share/man
# A package (PREFIX=/usr) puts its rule with the distribution's; a local
# install puts it where the administrator's rules go.
ifeq ($(PREFIX),/usr)
UDEVRULESDIR := /usr/lib/udev/rules.d
else
UDEVRULESDIR := /etc/udev/rules.d
endif
MODPROBEDIR := /etc/modprobe.d
MANPAGES := $(BUILD)/man/minivmx-run.1 $(BUILD)/man/minivmx.4
# What DKMS needs to build the module: dkms.conf and Kbuild name the rest.
DKMS_FILES := dkms.conf VERSION Kbuild module uapi
DKMS_SRC := /usr/src/minivmx-$(VERSION)

.PHONY: all modules userspace selftests ksrc lint checkpatch sparse check \
	unit soak demo bench clean debug-kernel check-debug FORCE \
	man man-check install install-modules uninstall dkms-src dkms-install \
	dkms-uninstall check-install print-kernels

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

# modules_install names the directory by KERNELRELEASE, which must be the
# release the kernel reports.  Debian's headers carry no signing key: then
# the module is installed unsigned (DKMS signs with its own key).  Kbuild's
# depmod needs System.map, which headers lack: depmod runs here instead,
# but not into a DESTDIR (whoever installs the staged tree runs it).
install-module-$(1): $(BUILD)/$(1)/minivmx.ko
	+$$(MAKE) -s -C $(2) M=$(BUILD)/mod-$(1) KERNELRELEASE=$(1) \
		INSTALL_MOD_PATH=$$(DESTDIR) INSTALL_MOD_DIR=updates \
		$$(if $$(wildcard $(2)/certs/signing_key.pem),,CONFIG_MODULE_SIG_ALL=) \
		modules_install
	$$(if $$(DESTDIR),@echo "  DEPMOD  skipped (DESTDIR): run depmod $(1) on the target",depmod -a $(1))

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

lint: checkpatch sparse man-check

# The man pages against --help, the uapi and the module (scripts/check-man).
man-check: userspace
	@$(ROOT)/scripts/check-man

checkpatch: ksrc
	@echo "  CHECKPATCH module/ uapi/"
	@$(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse --show-types \
		--no-summary -f $(LINT_FILES)

sparse: $(foreach v,$(KVERS),sparse-$(v))

check: all
	@CELLS="$(CELLS)" SELFTESTS="$(SELFTESTS)" LINT="$(LINT)" \
		MAKE="$(MAKE)" $(ROOT)/scripts/check

# make check with the full amounts in every cell (about 25 minutes more).
soak: all
	@SOAK=1 CELLS="$(CELLS)" SELFTESTS="$(SELFTESTS)" LINT="$(LINT)" \
		MAKE="$(MAKE)" $(ROOT)/scripts/check

debug-kernel:
	$(ROOT)/scripts/debug-kernel

# The module for the debug kernel is built by scripts/check-debug itself
# (make KDIR=<the debug tree>), which also builds that kernel if missing.
check-debug: userspace selftests
	@SELFTESTS="$(SELFTESTS)" MAKE="$(MAKE)" $(ROOT)/scripts/check-debug

unit:
	$(MAKE) -C userspace check

check-install: modules userspace
	$(ROOT)/scripts/check-install --pc

# "release headers-dir" of each kernel make builds for (scripts/check-install).
print-kernels:
	@$(foreach d,$(KDIRS),echo "$(call release,$(d)) $(d)";)

man: $(MANPAGES)

$(BUILD)/man/%: $(ROOT)/man/% $(ROOT)/VERSION
	@mkdir -p $(dir $@)
	sed 's/@VERSION@/$(VERSION)/g' $< > $@

install-modules: $(foreach v,$(KVERS),install-module-$(v))

install: install-modules userspace man
	install -D -m 0755 $(ROOT)/userspace/minivmx-run $(DESTDIR)$(BINDIR)/minivmx-run
	install -D -m 0755 $(ROOT)/scripts/exit-stats $(DESTDIR)$(BINDIR)/exit-stats
	install -D -m 0644 $(ROOT)/uapi/minivmx.h $(DESTDIR)$(INCLUDEDIR)/minivmx.h
	install -D -m 0644 $(BUILD)/man/minivmx-run.1 $(DESTDIR)$(MANDIR)/man1/minivmx-run.1
	install -D -m 0644 $(BUILD)/man/minivmx.4 $(DESTDIR)$(MANDIR)/man4/minivmx.4
	install -D -m 0644 $(ROOT)/dist/60-minivmx.rules $(DESTDIR)$(UDEVRULESDIR)/60-minivmx.rules
	@# The modprobe.d file is the administrator's once edited: kept.
	@f=$(DESTDIR)$(MODPROBEDIR)/minivmx.conf; \
	if [ -e $$f ] && ! cmp -s $(ROOT)/dist/minivmx.conf $$f; then \
		echo "  KEEP    $$f (edited; the example is dist/minivmx.conf)"; \
	else \
		echo "install -D -m 0644 $(ROOT)/dist/minivmx.conf $$f"; \
		install -D -m 0644 $(ROOT)/dist/minivmx.conf $$f; \
	fi
ifeq ($(DESTDIR),)
	@# A running udev takes the rule now, and applies it to a loaded module.
	-@udevadm control --reload-rules 2>/dev/null && \
		udevadm trigger --subsystem-match=minivmx 2>/dev/null || true
endif

# Every minivmx.ko make install put in updates/ (not DKMS's updates/dkms/),
# for any kernel, headers installed or not.
INSTALLED_KOS = $(wildcard $(DESTDIR)/lib/modules/*/updates/minivmx.ko*)

uninstall:
	@for ko in $(INSTALLED_KOS); do \
		echo "rm -f $$ko"; rm -f $$ko; \
		rel=$${ko#$(DESTDIR)/lib/modules/}; rel=$${rel%%/*}; \
		if [ -z "$(DESTDIR)" ]; then echo "depmod -a $$rel"; depmod -a $$rel; fi; \
	done
	rm -f $(DESTDIR)$(BINDIR)/minivmx-run $(DESTDIR)$(BINDIR)/exit-stats \
		$(DESTDIR)$(INCLUDEDIR)/minivmx.h \
		$(DESTDIR)$(MANDIR)/man1/minivmx-run.1 \
		$(DESTDIR)$(MANDIR)/man4/minivmx.4 \
		$(DESTDIR)$(UDEVRULESDIR)/60-minivmx.rules
	@f=$(DESTDIR)$(MODPROBEDIR)/minivmx.conf; \
	if [ -e $$f ] && ! cmp -s $(ROOT)/dist/minivmx.conf $$f; then \
		echo "  KEEP    $$f (edited)"; \
	else \
		echo "rm -f $$f"; rm -f $$f; \
	fi

# The sources DKMS builds from, as a distribution's package lays them out
# ("dkms add ." from a checkout would copy build/ too).
dkms-src:
	rm -rf $(DESTDIR)$(DKMS_SRC)
	mkdir -p $(DESTDIR)$(DKMS_SRC)
	cp -R $(addprefix $(ROOT)/,$(DKMS_FILES)) $(DESTDIR)$(DKMS_SRC)/

# Built and installed for every kernel whose headers are there; DKMS's
# kernel hook (AUTOINSTALL) does the same for each kernel installed later.
dkms-install: dkms-src
	dkms status -m minivmx -v $(VERSION) | grep -q . || \
		dkms add minivmx/$(VERSION)
	@for b in /lib/modules/*/build; do \
		[ -d $$b ] || continue; \
		k=$${b#/lib/modules/}; k=$${k%/build}; \
		echo "dkms install minivmx/$(VERSION) -k $$k"; \
		dkms install minivmx/$(VERSION) -k $$k || exit 1; \
	done

dkms-uninstall:
	-dkms remove minivmx/$(VERSION) --all
	rm -rf $(DKMS_SRC)

demo:
	$(ROOT)/scripts/demo

bench: all
	$(ROOT)/scripts/bench $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)/mod-* $(foreach v,$(KVERS),$(BUILD)/$(v)) \
		$(BUILD)/sparse-*.log $(BUILD)/vmtest $(BUILD)/check \
		$(BUILD)/man
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean

FORCE:
