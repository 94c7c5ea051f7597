/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ftrace events of minivmx.  Names and fields follow KVM's kvm:kvm_entry,
 * kvm_exit, kvm_pio, kvm_mmio, kvm_userspace_exit, kvm_cpuid and kvm_msr
 * wherever they mean the same thing.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM minivmx

#if !defined(_MVX_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _MVX_TRACE_H

#include <linux/tracepoint.h>
#include "minivmx.h"

#define MVX_TRACE_NAME_LEN	24

const char *mvx_run_exit_name(u32 reason);
void mvx_trace_exit_info(struct mvx_vcpu *vcpu, struct mvx_exit_info *info);

TRACE_EVENT(minivmx_entry,
	    TP_PROTO(struct mvx_vcpu *vcpu),
	    TP_ARGS(vcpu),
	    TP_STRUCT__entry(__field(unsigned int, vcpu_id)
			     __field(u64, rip)),
	    TP_fast_assign(__entry->vcpu_id = vcpu->id;
			   __entry->rip = vcpu->rip;),
	    TP_printk("vcpu %u, rip 0x%llx", __entry->vcpu_id, __entry->rip)
);

TRACE_EVENT(minivmx_exit,
	    TP_PROTO(struct mvx_vcpu *vcpu),
	    TP_ARGS(vcpu),
	    TP_STRUCT__entry(__field(unsigned int, vcpu_id)
			     __array(char, isa, 4)
			     __field(u32, exit_reason)
			     __array(char, reason_name, MVX_TRACE_NAME_LEN)
			     __field(u64, guest_rip)
			     __field(u64, info1)
			     __field(u64, info2)),
	    TP_fast_assign(struct mvx_exit_info info;

			   mvx_trace_exit_info(vcpu, &info);
			   __entry->vcpu_id = vcpu->id;
			   strscpy(__entry->isa, mvx_ops->name, 4);
			   __entry->exit_reason = info.reason;
			   strscpy(__entry->reason_name, info.name,
				   MVX_TRACE_NAME_LEN);
			   __entry->guest_rip = vcpu->rip;
			   __entry->info1 = info.info1;
			   __entry->info2 = info.info2;),
	    TP_printk("vcpu %u isa %s reason %s (%u) rip 0x%llx info1 0x%llx info2 0x%llx",
		      __entry->vcpu_id, __entry->isa, __entry->reason_name,
		      __entry->exit_reason, __entry->guest_rip,
		      __entry->info1, __entry->info2)
);

TRACE_EVENT(minivmx_pio,
	    TP_PROTO(bool write, u16 port, u8 size, u32 count, u64 val),
	    TP_ARGS(write, port, size, count, val),
	    TP_STRUCT__entry(__field(bool, rw)
			     __field(u16, port)
			     __field(u8, size)
			     __field(u32, count)
			     __field(u64, val)),
	    TP_fast_assign(__entry->rw = write;
			   __entry->port = port;
			   __entry->size = size;
			   __entry->count = count;
			   __entry->val = val;),
	    TP_printk("pio_%s at 0x%x size %u count %u val 0x%llx",
		      __entry->rw ? "write" : "read", __entry->port,
		      __entry->size, __entry->count, __entry->val)
);

TRACE_EVENT(minivmx_mmio,
	    TP_PROTO(bool write, u64 gpa, u8 len, u64 val),
	    TP_ARGS(write, gpa, len, val),
	    TP_STRUCT__entry(__field(bool, rw)
			     __field(u64, gpa)
			     __field(u8, len)
			     __field(u64, val)),
	    TP_fast_assign(__entry->rw = write;
			   __entry->gpa = gpa;
			   __entry->len = len;
			   __entry->val = val;),
	    TP_printk("mmio %s len %u gpa 0x%llx val 0x%llx",
		      __entry->rw ? "write" : "read", __entry->len,
		      __entry->gpa, __entry->val)
);

TRACE_EVENT(minivmx_userspace_exit,
	    TP_PROTO(u32 reason, int errno),
	    TP_ARGS(reason, errno),
	    TP_STRUCT__entry(__field(u32, reason)
			     __array(char, name, MVX_TRACE_NAME_LEN)
			     __field(int, errno)),
	    TP_fast_assign(__entry->reason = reason;
			   strscpy(__entry->name, mvx_run_exit_name(reason),
				   MVX_TRACE_NAME_LEN);
			   __entry->errno = errno;),
	    TP_printk("reason %s (%u) errno %d", __entry->name,
		      __entry->reason, __entry->errno)
);

TRACE_EVENT(minivmx_cpuid,
	    TP_PROTO(u32 function, u32 index, u64 rax, u64 rbx, u64 rcx,
		     u64 rdx),
	    TP_ARGS(function, index, rax, rbx, rcx, rdx),
	    TP_STRUCT__entry(__field(u32, function)
			     __field(u32, index)
			     __field(u64, rax)
			     __field(u64, rbx)
			     __field(u64, rcx)
			     __field(u64, rdx)),
	    TP_fast_assign(__entry->function = function;
			   __entry->index = index;
			   __entry->rax = rax;
			   __entry->rbx = rbx;
			   __entry->rcx = rcx;
			   __entry->rdx = rdx;),
	    TP_printk("func %x idx %x rax %llx rbx %llx rcx %llx rdx %llx",
		      __entry->function, __entry->index, __entry->rax,
		      __entry->rbx, __entry->rcx, __entry->rdx)
);

TRACE_EVENT(minivmx_msr,
	    TP_PROTO(bool write, u32 ecx, u64 data, bool exception),
	    TP_ARGS(write, ecx, data, exception),
	    TP_STRUCT__entry(__field(bool, write)
			     __field(u32, ecx)
			     __field(u64, data)
			     __field(bool, exception)),
	    TP_fast_assign(__entry->write = write;
			   __entry->ecx = ecx;
			   __entry->data = data;
			   __entry->exception = exception;),
	    TP_printk("msr_%s %x = 0x%llx%s",
		      __entry->write ? "write" : "read", __entry->ecx,
		      __entry->data, __entry->exception ? " (#GP)" : "")
);

TRACE_EVENT(minivmx_inject,
	    TP_PROTO(struct mvx_vcpu *vcpu, const struct mvx_event *ev),
	    TP_ARGS(vcpu, ev),
	    TP_STRUCT__entry(__field(unsigned int, vcpu_id)
			     __field(u8, vector)
			     __field(u8, type)
			     __field(bool, reinjected)
			     __field(u32, error_code)),
	    TP_fast_assign(__entry->vcpu_id = vcpu->id;
			   __entry->vector = ev->vector;
			   __entry->type = ev->type;
			   __entry->reinjected = ev->reinjected;
			   __entry->error_code = ev->has_error ?
						 ev->error_code : 0;),
	    TP_printk("vcpu %u vector %u type %s%s error 0x%x",
		      __entry->vcpu_id, __entry->vector,
		      __print_symbolic(__entry->type,
				       { MVX_EV_EXTINT, "irq" },
				       { MVX_EV_NMI, "nmi" },
				       { MVX_EV_EXCEPTION, "exception" },
				       { MVX_EV_SOFT_INTR, "soft_irq" },
				       { MVX_EV_SOFT_EXCEPTION, "soft_exception" },
				       { MVX_EV_PRIV_SOFT_EXCEPTION, "icebp" }),
		      __entry->reinjected ? " reinjected" : "",
		      __entry->error_code)
);

#endif /* _MVX_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
