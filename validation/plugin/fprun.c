/*
 * fprun: a QEMU TCG plugin (API version 1, QEMU 7.2) for the OUTER QEMU that runs the
 * L1 KVM host. It watches the L1 kernel's world switch and reports, per measurement
 * window, how many guest runs executed any A64 FP/SIMD instruction.
 *
 * Why haddr and not vaddr: under nVHE the world switch runs at EL2 on hyp VAs that KVM
 * randomises at boot (kvm_compute_layout), so the kernel VA from /proc/kallsyms does not
 * match the PC. The code's host address (qemu_plugin_insn_haddr: where the guest-physical
 * page lives in QEMU's RAM block) does: the kernel image is contiguous in RAM, so an
 * instruction at image offset o lives at base + o whichever VA executes it. The base is
 * learnt from the first translated instruction whose VA lies in [_stext, _etext) (L1
 * boots with nokaslr, so those VAs are the ones /proc/kallsyms printed on a previous boot).
 *
 * Events (all written with qemu_plugin_outs, i.e. to the -d plugin log, interleaved in
 * order with the -d int exception log lines):
 *   "@E"               guest entry: the ERET inside __guest_enter (VHE) or
 *                      __kvm_nvhe___guest_enter (nVHE) is about to execute. The exception
 *                      log counter uses it to tell the L2 guest's exceptions from L1's own.
 *                      Printed only with entries=1 (the default).
 *   "@W+ <n> tag=<k>"  measurement window n opens, at the first guest entry after marker
 *                      HINT #120 was executed (by the VMM in L1 before its KVM_RUN loop, or
 *                      by the L2 guest just before the fw_cfg read that marks the kvm trace):
 *                      so the exception log, the plugin and the kvm trace all start with
 *                      the same guest run; k = how many HINT #122 were executed since the
 *                      last window closed (the program names itself that way).
 *   "@W- <n> tag=<k> k=v ..."  marker HINT #121: window n closes, with its counters.
 *
 * Counters (full=1 only; light mode only marks entries and windows, at ~no cost):
 *   hyp_runs        guest runs as the hardware sees them: ERET in __guest_enter to the
 *                   next instruction in L1's kernel image (the exception vector);
 *   hyp_runs_fp     ... of which the guest executed >= 1 FP/SIMD instruction;
 *   hyp_runs_fp_end ... of which the LAST guest instruction was FP/SIMD: the run ended
 *                   because that access trapped (EC 0x07/0x19 to EL2), or faulted;
 *   kvm_runs        runs as KVM's trace sees them (kvm_entry to kvm_exit): all hyp runs
 *                   between two calls of __kvm_vcpu_run (fixup_guest_exit re-enters the
 *                   guest inside one call, e.g. after an FP trap);
 *   kvm_runs_fp     ... of which any hyp run executed FP/SIMD;
 *   kvm_runs_fp_el0 ... of which the guest's EL0 (user code) executed FP/SIMD;
 *   kvm_runs_fp_el1 ... of which the guest's EL1 (its kernel) executed FP/SIMD. The EL
 *                   is told by the instruction's VA: an AArch64 Linux guest runs user code
 *                   at TTBR0 VAs (bit 63 clear) and its kernel at TTBR1 VAs (bit 63 set);
 *                   the scripted guests run with the MMU off at low addresses (EL1 code
 *                   counted as EL0 here: use the trap log's fromEl1 for those);
 *   guest_insns     guest instructions executed in the window (TB granularity).
 * A run is counted in the window in which its exit happens.
 *
 * Per-run records (records=1): "@R <window> <cpu> <insns> <fp_el0> <fp_el1> <switches>
 * <injected>" for every kvm run whose exit fell in an open window, printed when the run
 * is finished (at the next __kvm_vcpu_run on that CPU), so after the exception that ended
 * it: the exception-log reader (lib/intlog.ts) names the exit class from that exception's
 * ESR. The run still in progress when a window closes (the one that executes the closing
 * marker and exits on the fw_cfg read the kvm trace leaves out) gets no record.
 *   insns     guest instructions of the run (all its hyp runs; TB granularity);
 *   switches  executions of the guest kernel's context switch in the run: the instruction
 *             at switchto= (the L2 kernel's __switch_to, booted with nokaslr so its VA is
 *             L1's) or, for an AArch32 guest (guest32=1), a write of TPIDRURW (MCR p15, 0,
 *             Rt, c13, c0, 2) at a kernel VA, which arch/arm/kernel/entry-armv.S
 *             __switch_to executes once per switch (switch_tls_v6k, arch/arm/include/asm/
 *             tls.h). Not TPIDRURO: a 6.1 v7 SMP kernel keeps `current` in it
 *             (CONFIG_CURRENT_POINTER_IN_TPIDRURO) and rewrites it on every return to user;
 *   injected  1 when KVM loaded at least one vGIC list register (MSR ICH_LR<n>_EL2 with a
 *             register other than XZR, i.e. __vgic_v3_restore_state writing a pending or
 *             active interrupt; __vgic_v3_save_state clears them with XZR) between the
 *             previous guest exit on this CPU and the run's first entry, else 0.
 * State is per outer vCPU (= L1 CPU): with -smp 2 each L1 CPU runs its own kvm runs.
 * The exception log is only unambiguous when the vCPUs do not run in parallel (-icount,
 * i.e. round-robin TCG), which the harness uses for every multi-CPU boot.
 *
 * AArch32 guests (guest32=1): guest code is classified from QEMU's own disassembly of the
 * instruction in the state it was translated in (A32 or T32; the plugin API does not say
 * which): VFP and Advanced SIMD instructions all have UAL mnemonics starting with "v"
 * (vadd, vldr, vstmia, vpush, vmov, vmrs, vmsr, vld1, ...), Arm ARM (DDI 0487) F5.1; the
 * records then also count VMRS/VMSR of FPEXC ("fpexc" in the operands) per window
 * (fpexc_accesses). EL is told by VA: kernel (EL1) at >= kva32= (default 0xbf000000:
 * modules below PAGE_OFFSET 0xc0000000 of the 3G/1G split).
 *
 * Args: stext=, etext=, genter=, genter_end=, nvgenter=, nvgenter_end=, vcpurun=,
 *       nvvcpurun= (hex kernel VAs from /proc/kallsyms), full=0|1, entries=0|1,
 *       records=0|1, switchto= (hex VA), guest32=0|1, kva32= (hex VA).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-plugin-api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define OP_ERET 0xd69f03e0u
#define OP_HINT_OPEN 0xd5032f1fu  /* hint #120 */
#define OP_HINT_CLOSE 0xd5032f3fu /* hint #121 */
#define OP_HINT_TAG 0xd5032f5fu   /* hint #122: executed k times before #120 = window tag k */
/* the same hints in A32 (cond 1110 0011 0010 0000 1111 0000 imm8, Arm ARM F5.1.92), for
 * the armhf guest's fpsw-bench32 */
#define A32_HINT_OPEN 0xe320f078u
#define A32_HINT_CLOSE 0xe320f079u
#define A32_HINT_TAG 0xe320f07au
#define MAX_CPUS 16

static uint64_t stext, etext, genter, genter_end, nvgenter, nvgenter_end, vcpurun, nvvcpurun;
static uint64_t switchto, kva32 = 0xbf000000u;
static int full = 0, entries = 1, records = 0, guest32 = 0;
static uintptr_t base; /* host address of _stext, 0 until learnt */

/* run state, per outer vCPU (L1 CPU) */
struct vstate {
	int in_guest;      /* between entry ERET and the next L1 image instruction */
	int last_fp;       /* last guest instruction executed was FP/SIMD */
	int cur_fp;        /* this hyp run executed FP/SIMD */
	int cur_fp_el;     /* this hyp run's FP/SIMD by guest EL: bit 0 = EL0 VA, bit 1 = EL1 VA */
	int kvm_run_open;  /* a __kvm_vcpu_run call is in progress */
	int kvm_run_fp;    /* some hyp run in it executed FP/SIMD */
	int kvm_run_fp_el; /* the same by EL over the kvm run */
	int kvm_run_inwin; /* it had an exit inside the window */
	int kvm_run_entered;  /* its first guest entry happened */
	int kvm_run_injected; /* list registers were loaded before that entry */
	unsigned lr_writes;   /* MSR ICH_LR<n>_EL2 (not XZR) since the last guest exit */
	uint64_t run_insns, run_switches;
};
static struct vstate vs_all[MAX_CPUS];
static struct vstate *vs(unsigned cpu) { return &vs_all[cpu < MAX_CPUS ? cpu : MAX_CPUS - 1]; }

static int window_open;
static int window_pending; /* HINT #120 seen, the window opens at the next guest entry */
static unsigned window_id, tag_count, window_tag;

struct counters {
	uint64_t hyp_runs, hyp_runs_fp, hyp_runs_fp_end, kvm_runs, kvm_runs_fp, kvm_runs_fp_el0, kvm_runs_fp_el1,
		guest_insns, switches, fpexc_accesses;
};
static struct counters win, total;

/* A64 FP/SIMD/SVE instruction? (Arm ARM C4.1 top-level encoding, op0 = bits[28:25]) */
static int a64_is_fp(uint32_t i)
{
	uint32_t op0 = (i >> 25) & 0xf;
	if ((op0 & 0x7) == 0x7) return 1; /* x111: data processing, scalar FP and Advanced SIMD */
	if ((op0 & 0x5) == 0x4 && (i & (1u << 26))) return 1; /* x1x0 loads/stores with V=1 */
	if (op0 == 0x2) return 1; /* 0010: SVE */
	if ((i & 0xffd00000u) == 0xd5100000u) { /* MRS/MSR (register), op0 = 0b11 */
		uint32_t sysreg = (i >> 5) & 0xffff;
		if (sysreg == 0xda20 || sysreg == 0xda21) return 1; /* FPCR, FPSR */
	}
	return 0;
}

/* MSR ICH_LR<n>_EL2, Xt with t != 31: o0:op1:CRn:CRm:op2 = 1:100:1100:110x:nnn (Arm ARM D19.4) */
static int a64_is_lr_load(uint32_t i)
{
	uint32_t sysreg = (i >> 5) & 0xffff;
	return (i & 0xfff00000u) == 0xd5100000u && sysreg >= 0xe660 && sysreg <= 0xe66f && (i & 0x1f) != 31;
}

/* AArch32 guest instruction classes, from QEMU's disassembly (see the header) */
enum { A32_FP = 1, A32_FPEXC = 2, A32_TLS = 4 };
static int a32_class(struct qemu_plugin_insn *insn)
{
	char *d = qemu_plugin_insn_disas(insn);
	int c = 0;
	if (!d) return 0;
	const char *m = d;
	while (*m == ' ' || *m == '\t') m++;
	if (*m == 'v') c |= A32_FP;
	if (c && strstr(m, "fpexc")) c |= A32_FPEXC;
	/* mcr p15, #0, rN, c13, c0, #2 (TPIDRURW; capstone spells it "mcr p15, #0, r3, c13, c0, #2") */
	if (strncmp(m, "mcr", 3) == 0 && strstr(m, "p15") && strstr(m, "c13, c0, #2")) c |= A32_TLS;
	free(d);
	return c;
}

static int in_image(uintptr_t h) { return base && h >= base && h < base + (etext - stext); }
static uint64_t image_off(uintptr_t h) { return (uint64_t)(h - base); }

static void add(struct counters *c, const struct counters *d)
{
	c->hyp_runs += d->hyp_runs;
	c->hyp_runs_fp += d->hyp_runs_fp;
	c->hyp_runs_fp_end += d->hyp_runs_fp_end;
	c->kvm_runs += d->kvm_runs;
	c->kvm_runs_fp += d->kvm_runs_fp;
	c->kvm_runs_fp_el0 += d->kvm_runs_fp_el0;
	c->kvm_runs_fp_el1 += d->kvm_runs_fp_el1;
	c->guest_insns += d->guest_insns;
	c->switches += d->switches;
	c->fpexc_accesses += d->fpexc_accesses;
}

#define COUNT(field, n) (win.field += (n))

/* the kvm run's counts go into the window (its exit fell inside it) */
static void count_kvm_run(struct vstate *v)
{
	COUNT(kvm_runs, 1);
	if (v->kvm_run_fp) COUNT(kvm_runs_fp, 1);
	if (v->kvm_run_fp_el & 1) COUNT(kvm_runs_fp_el0, 1);
	if (v->kvm_run_fp_el & 2) COUNT(kvm_runs_fp_el1, 1);
}

static void reset_kvm_run(struct vstate *v)
{
	v->kvm_run_open = 0;
	v->kvm_run_fp = 0;
	v->kvm_run_fp_el = 0;
	v->kvm_run_inwin = 0;
	v->kvm_run_entered = 0;
	v->kvm_run_injected = 0;
	v->run_insns = 0;
	v->run_switches = 0;
}

static void finish_kvm_run(unsigned cpu, struct vstate *v)
{
	if (v->kvm_run_open && v->kvm_run_inwin) {
		count_kvm_run(v);
		if (records) {
			char buf[160];
			snprintf(buf, sizeof buf, "@R %u %u %" PRIu64 " %d %d %" PRIu64 " %d\n", window_id, cpu,
				 v->run_insns, v->kvm_run_fp_el & 1, (v->kvm_run_fp_el >> 1) & 1, v->run_switches,
				 v->kvm_run_injected);
			qemu_plugin_outs(buf);
		}
	}
	reset_kvm_run(v);
}

static void print_counters(const char *tag, unsigned id, const struct counters *c)
{
	char buf[480];
	snprintf(buf, sizeof buf,
		 "%s %u tag=%u hyp_runs=%" PRIu64 " hyp_runs_fp=%" PRIu64 " hyp_runs_fp_end=%" PRIu64
		 " kvm_runs=%" PRIu64 " kvm_runs_fp=%" PRIu64 " kvm_runs_fp_el0=%" PRIu64 " kvm_runs_fp_el1=%" PRIu64
		 " guest_insns=%" PRIu64 " switches=%" PRIu64 " fpexc_accesses=%" PRIu64 "\n",
		 tag, id, window_tag, c->hyp_runs, c->hyp_runs_fp, c->hyp_runs_fp_end, c->kvm_runs, c->kvm_runs_fp,
		 c->kvm_runs_fp_el0, c->kvm_runs_fp_el1, c->guest_insns, c->switches, c->fpexc_accesses);
	qemu_plugin_outs(buf);
}

/* --- execution callbacks --- */

static void open_window(void)
{
	char buf[64];
	window_pending = 0;
	memset(&win, 0, sizeof win);
	window_open = 1;
	window_id++;
	snprintf(buf, sizeof buf, "@W+ %u tag=%u\n", window_id, window_tag);
	qemu_plugin_outs(buf);
}

static void on_entry(unsigned cpu, void *u)
{
	(void)u;
	struct vstate *v = vs(cpu);
	if (window_pending) open_window();
	v->in_guest = 1;
	v->last_fp = 0;
	v->cur_fp = 0;
	v->cur_fp_el = 0;
	if (!v->kvm_run_entered) {
		v->kvm_run_entered = 1;
		v->kvm_run_injected = v->lr_writes > 0;
	}
	if (entries) {
		char buf[16];
		snprintf(buf, sizeof buf, "@E %u\n", cpu);
		qemu_plugin_outs(buf);
	}
}

static void on_vcpu_run(unsigned cpu, void *u)
{
	(void)u;
	struct vstate *v = vs(cpu);
	finish_kvm_run(cpu, v);
	v->kvm_run_open = 1;
}

static void on_lr_load(unsigned cpu, void *u)
{
	(void)u;
	vs(cpu)->lr_writes++;
}

/* first instruction of a TB in L1's kernel image: if we were in the guest, it exited */
static void on_l1_tb(unsigned cpu, void *u)
{
	(void)u;
	struct vstate *v = vs(cpu);
	if (!v->in_guest) return;
	v->in_guest = 0;
	v->lr_writes = 0;
	if (window_open) {
		COUNT(hyp_runs, 1);
		if (v->cur_fp) COUNT(hyp_runs_fp, 1);
		if (v->last_fp) COUNT(hyp_runs_fp_end, 1);
		v->kvm_run_inwin = 1;
	}
	if (v->cur_fp) v->kvm_run_fp = 1;
	v->kvm_run_fp_el |= v->cur_fp_el;
}

/* a TB outside L1's image with no FP/SIMD instruction; u = instruction count */
static void on_plain_tb(unsigned cpu, void *u)
{
	struct vstate *v = vs(cpu);
	if (!v->in_guest) return;
	v->last_fp = 0;
	v->run_insns += (uint64_t)(uintptr_t)u;
	if (window_open) COUNT(guest_insns, (uint64_t)(uintptr_t)u);
}

/* every instruction of a TB outside L1's image that has FP/SIMD: u = 0 for a non-FP
 * instruction, 1 for FP/SIMD at an EL0 VA, 2 for FP/SIMD at an EL1 VA; | 4 for an
 * AArch32 FPEXC access */
static void on_insn(unsigned cpu, void *u)
{
	struct vstate *v = vs(cpu);
	if (!v->in_guest) return;
	int k = (int)(uintptr_t)u;
	v->last_fp = (k & 3) != 0;
	if (v->last_fp) {
		v->cur_fp = 1;
		v->cur_fp_el |= k & 3;
	}
	v->run_insns++;
	if (window_open) {
		COUNT(guest_insns, 1);
		if (k & 4) COUNT(fpexc_accesses, 1);
	}
}

/* the guest kernel's context switch (see the header) */
static void on_switch(unsigned cpu, void *u)
{
	(void)u;
	struct vstate *v = vs(cpu);
	if (!v->in_guest) return;
	v->run_switches++;
	if (window_open) COUNT(switches, 1);
}

static void on_tag(unsigned cpu, void *u)
{
	(void)cpu;
	(void)u;
	if (!window_open && !window_pending) tag_count++;
}

static void on_window(unsigned cpu, void *u)
{
	(void)cpu;
	if (u) { /* open: at the next guest entry */
		if (window_open || window_pending) return;
		window_pending = 1;
		window_tag = tag_count;
		tag_count = 0;
	} else {
		if (window_pending) open_window(); /* no guest entry in between: an empty window */
		if (!window_open) return;
		window_open = 0;
		/* the kvm runs in progress (the VMM's last one, or the guest's) belong here; they get
		 * no per-run record (their exit is the closing marker's, or still to come) */
		for (unsigned c = 0; c < MAX_CPUS; c++) {
			struct vstate *v = &vs_all[c];
			if (v->kvm_run_open && v->kvm_run_inwin) {
				count_kvm_run(v);
				v->kvm_run_inwin = 0;
				v->kvm_run_fp = 0;
				v->kvm_run_fp_el = 0;
			}
		}
		add(&total, &win);
		print_counters("@W-", window_id, &win);
	}
}

/* --- translation --- */

/* the callback argument of on_insn for a guest instruction (0: no FP/SIMD) */
static uintptr_t guest_insn_kind(struct qemu_plugin_insn *insn, uint32_t op, int *is_switch)
{
	uint64_t va = qemu_plugin_insn_vaddr(insn);
	*is_switch = switchto && va == switchto;
	if (!guest32) {
		if (qemu_plugin_insn_size(insn) != 4 || !a64_is_fp(op)) return 0;
		return (va >> 63) ? 2 : 1;
	}
	int c = a32_class(insn);
	uintptr_t el = va >= kva32 ? 2 : 1;
	if (c & A32_TLS && el == 2) *is_switch = 1;
	if (!(c & A32_FP)) return 0;
	return el | ((c & A32_FPEXC) ? 4 : 0);
}

static void on_l1_insn_trans(struct qemu_plugin_insn *insn, uint32_t op, uintptr_t h)
{
	uint64_t o = image_off(h) + stext; /* as a kernel VA */
	if (op == OP_ERET && ((o >= genter && o < genter_end) || (o >= nvgenter && o < nvgenter_end)))
		qemu_plugin_register_vcpu_insn_exec_cb(insn, on_entry, QEMU_PLUGIN_CB_NO_REGS, NULL);
	if (full && (o == vcpurun || o == nvvcpurun))
		qemu_plugin_register_vcpu_insn_exec_cb(insn, on_vcpu_run, QEMU_PLUGIN_CB_NO_REGS, NULL);
	if (full && records && a64_is_lr_load(op))
		qemu_plugin_register_vcpu_insn_exec_cb(insn, on_lr_load, QEMU_PLUGIN_CB_NO_REGS, NULL);
}

static uint32_t insn_word(struct qemu_plugin_insn *insn)
{
	uint32_t op = 0;
	size_t n = qemu_plugin_insn_size(insn);
	memcpy(&op, qemu_plugin_insn_data(insn), n < 4 ? n : 4);
	return op;
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	size_t n = qemu_plugin_tb_n_insns(tb);
	if (n == 0) return;
	struct qemu_plugin_insn *first = qemu_plugin_tb_get_insn(tb, 0);
	uintptr_t h0 = (uintptr_t)qemu_plugin_insn_haddr(first);
	uint64_t v0 = qemu_plugin_insn_vaddr(first);
	if (!base && h0 && v0 >= stext && v0 < etext) base = h0 - (uintptr_t)(v0 - stext);

	int l1 = in_image(h0);
	int special = 0; /* a guest TB with FP/SIMD or a context switch: per-instruction callbacks */
	uintptr_t kinds[512];
	int sw[512];
	for (size_t k = 0; k < n; k++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, k);
		uint32_t op = insn_word(insn);
		uintptr_t h = (uintptr_t)qemu_plugin_insn_haddr(insn);
		int is4 = qemu_plugin_insn_size(insn) == 4;
		if (is4 && (op == OP_HINT_TAG || (guest32 && op == A32_HINT_TAG)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_tag, QEMU_PLUGIN_CB_NO_REGS, NULL);
		int open_ = op == OP_HINT_OPEN || (guest32 && op == A32_HINT_OPEN);
		int close_ = op == OP_HINT_CLOSE || (guest32 && op == A32_HINT_CLOSE);
		if (is4 && (open_ || close_))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_window, QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)open_);
		if (l1 && is4 && in_image(h)) on_l1_insn_trans(insn, op, h);
		if (!l1 && full && k < 512) {
			kinds[k] = guest_insn_kind(insn, op, &sw[k]);
			if (kinds[k] || sw[k]) special = 1;
		}
	}
	if (!full) return;
	if (l1) {
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_l1_tb, QEMU_PLUGIN_CB_NO_REGS, NULL);
	} else if (!special || n > 512) {
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_plain_tb, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
	} else {
		for (size_t k = 0; k < n; k++) {
			struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, k);
			if (sw[k]) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_switch, QEMU_PLUGIN_CB_NO_REGS, NULL);
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, (void *)kinds[k]);
		}
	}
}

static void on_atexit(qemu_plugin_id_t id, void *u)
{
	(void)id;
	(void)u;
	char buf[160];
	print_counters("@T", window_id, &total);
	snprintf(buf, sizeof buf, "@I base_found=%d\n", base != 0);
	qemu_plugin_outs(buf);
}

static uint64_t hexarg(const char *v) { return strtoull(v, NULL, 16); }

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	(void)info;
	for (int k = 0; k < argc; k++) {
		char *eq = strchr(argv[k], '=');
		if (!eq) continue;
		size_t kl = (size_t)(eq - argv[k]);
		const char *v = eq + 1;
#define ARG(name) (kl == strlen(name) && strncmp(argv[k], name, kl) == 0)
		if (ARG("stext")) stext = hexarg(v);
		else if (ARG("etext")) etext = hexarg(v);
		else if (ARG("genter")) genter = hexarg(v);
		else if (ARG("genter_end")) genter_end = hexarg(v);
		else if (ARG("nvgenter")) nvgenter = hexarg(v);
		else if (ARG("nvgenter_end")) nvgenter_end = hexarg(v);
		else if (ARG("vcpurun")) vcpurun = hexarg(v);
		else if (ARG("nvvcpurun")) nvvcpurun = hexarg(v);
		else if (ARG("switchto")) switchto = hexarg(v);
		else if (ARG("kva32")) kva32 = hexarg(v);
		else if (ARG("full")) full = atoi(v);
		else if (ARG("entries")) entries = atoi(v);
		else if (ARG("records")) records = atoi(v);
		else if (ARG("guest32")) guest32 = atoi(v);
#undef ARG
	}
	if (!stext || etext <= stext) {
		fprintf(stderr, "fprun: need stext= and etext= (hex kernel VAs)\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
	qemu_plugin_register_atexit_cb(id, on_atexit, NULL);
	return 0;
}
