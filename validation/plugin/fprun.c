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
 * Args: stext=, etext=, genter=, genter_end=, nvgenter=, nvgenter_end=, vcpurun=,
 *       nvvcpurun= (hex kernel VAs from /proc/kallsyms), full=0|1, entries=0|1.
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

static uint64_t stext, etext, genter, genter_end, nvgenter, nvgenter_end, vcpurun, nvvcpurun;
static int full = 0, entries = 1;
static uintptr_t base; /* host address of _stext, 0 until learnt */

/* run state */
static int in_guest;      /* between entry ERET and the next L1 image instruction */
static int last_fp;       /* last guest instruction executed was FP/SIMD */
static int cur_fp;        /* this hyp run executed FP/SIMD */
static int kvm_run_open;  /* a __kvm_vcpu_run call is in progress */
static int kvm_run_fp;    /* some hyp run in it executed FP/SIMD */
static int cur_fp_el;     /* this hyp run's FP/SIMD by guest EL: bit 0 = EL0 VA, bit 1 = EL1 VA */
static int kvm_run_fp_el; /* the same over the kvm run */
static int kvm_run_inwin; /* it had an exit inside the window */
static int window_open;
static int window_pending; /* HINT #120 seen, the window opens at the next guest entry */
static unsigned window_id, tag_count, window_tag;

struct counters {
	uint64_t hyp_runs, hyp_runs_fp, hyp_runs_fp_end, kvm_runs, kvm_runs_fp, kvm_runs_fp_el0, kvm_runs_fp_el1, guest_insns;
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
}

#define COUNT(field, n) (win.field += (n))

static void finish_kvm_run(void)
{
	if (kvm_run_open && kvm_run_inwin) {
		COUNT(kvm_runs, 1);
		if (kvm_run_fp) COUNT(kvm_runs_fp, 1);
		if (kvm_run_fp_el & 1) COUNT(kvm_runs_fp_el0, 1);
		if (kvm_run_fp_el & 2) COUNT(kvm_runs_fp_el1, 1);
	}
	kvm_run_open = 0;
	kvm_run_fp = 0;
	kvm_run_fp_el = 0;
	kvm_run_inwin = 0;
}

static void print_counters(const char *tag, unsigned id, const struct counters *c)
{
	char buf[400];
	snprintf(buf, sizeof buf,
		 "%s %u tag=%u hyp_runs=%" PRIu64 " hyp_runs_fp=%" PRIu64 " hyp_runs_fp_end=%" PRIu64
		 " kvm_runs=%" PRIu64 " kvm_runs_fp=%" PRIu64 " kvm_runs_fp_el0=%" PRIu64 " kvm_runs_fp_el1=%" PRIu64
		 " guest_insns=%" PRIu64 "\n",
		 tag, id, window_tag, c->hyp_runs, c->hyp_runs_fp, c->hyp_runs_fp_end, c->kvm_runs, c->kvm_runs_fp,
		 c->kvm_runs_fp_el0, c->kvm_runs_fp_el1, c->guest_insns);
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

static void on_entry(unsigned vcpu, void *u)
{
	(void)vcpu;
	(void)u;
	if (window_pending) open_window();
	in_guest = 1;
	last_fp = 0;
	cur_fp = 0;
	cur_fp_el = 0;
	if (entries) qemu_plugin_outs("@E\n");
}

static void on_vcpu_run(unsigned vcpu, void *u)
{
	(void)vcpu;
	(void)u;
	finish_kvm_run();
	kvm_run_open = 1;
}

/* first instruction of a TB in L1's kernel image: if we were in the guest, it exited */
static void on_l1_tb(unsigned vcpu, void *u)
{
	(void)vcpu;
	(void)u;
	if (!in_guest) return;
	in_guest = 0;
	if (window_open) {
		COUNT(hyp_runs, 1);
		if (cur_fp) COUNT(hyp_runs_fp, 1);
		if (last_fp) COUNT(hyp_runs_fp_end, 1);
		kvm_run_inwin = 1;
	}
	if (cur_fp) kvm_run_fp = 1;
	kvm_run_fp_el |= cur_fp_el;
}

/* a TB outside L1's image with no FP/SIMD instruction; u = instruction count */
static void on_plain_tb(unsigned vcpu, void *u)
{
	(void)vcpu;
	if (!in_guest) return;
	last_fp = 0;
	if (window_open) COUNT(guest_insns, (uint64_t)(uintptr_t)u);
}

/* every instruction of a TB outside L1's image that has FP/SIMD: u = 0 for a non-FP
 * instruction, 1 for FP/SIMD at an EL0 (TTBR0) VA, 2 for FP/SIMD at an EL1 (TTBR1) VA */
static void on_insn(unsigned vcpu, void *u)
{
	(void)vcpu;
	if (!in_guest) return;
	last_fp = u != NULL;
	if (last_fp) {
		cur_fp = 1;
		cur_fp_el |= (int)(uintptr_t)u;
	}
	if (window_open) COUNT(guest_insns, 1);
}

static void on_tag(unsigned vcpu, void *u)
{
	(void)vcpu;
	(void)u;
	if (!window_open && !window_pending) tag_count++;
}

static void on_window(unsigned vcpu, void *u)
{
	(void)vcpu;
	if (u) { /* open: at the next guest entry */
		if (window_open || window_pending) return;
		window_pending = 1;
		window_tag = tag_count;
		tag_count = 0;
	} else {
		if (window_pending) open_window(); /* no guest entry in between: an empty window */
		if (!window_open) return;
		window_open = 0;
		/* the kvm run in progress (the VMM's last one, or the guest's) belongs here */
		if (kvm_run_open && kvm_run_inwin) {
			COUNT(kvm_runs, 1);
			if (kvm_run_fp) COUNT(kvm_runs_fp, 1);
			if (kvm_run_fp_el & 1) COUNT(kvm_runs_fp_el0, 1);
			if (kvm_run_fp_el & 2) COUNT(kvm_runs_fp_el1, 1);
			kvm_run_inwin = 0;
			kvm_run_fp = 0;
			kvm_run_fp_el = 0;
		}
		add(&total, &win);
		print_counters("@W-", window_id, &win);
	}
}

/* --- translation --- */

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
	int has_fp = 0;
	for (size_t k = 0; k < n; k++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, k);
		if (qemu_plugin_insn_size(insn) != 4) continue;
		uint32_t op;
		memcpy(&op, qemu_plugin_insn_data(insn), 4);
		uintptr_t h = (uintptr_t)qemu_plugin_insn_haddr(insn);
		if (op == OP_HINT_TAG)
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_tag, QEMU_PLUGIN_CB_NO_REGS, NULL);
		if (op == OP_HINT_OPEN || op == OP_HINT_CLOSE) {
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_window, QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(uintptr_t)(op == OP_HINT_OPEN));
		}
		if (l1 && in_image(h)) {
			uint64_t o = image_off(h) + stext; /* as a kernel VA */
			if (op == OP_ERET && ((o >= genter && o < genter_end) || (o >= nvgenter && o < nvgenter_end)))
				qemu_plugin_register_vcpu_insn_exec_cb(insn, on_entry, QEMU_PLUGIN_CB_NO_REGS, NULL);
			if (full && (o == vcpurun || o == nvvcpurun))
				qemu_plugin_register_vcpu_insn_exec_cb(insn, on_vcpu_run, QEMU_PLUGIN_CB_NO_REGS, NULL);
		}
		if (!l1 && a64_is_fp(op)) has_fp = 1;
	}
	if (!full) return;
	if (l1) {
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_l1_tb, QEMU_PLUGIN_CB_NO_REGS, NULL);
	} else if (!has_fp) {
		qemu_plugin_register_vcpu_tb_exec_cb(tb, on_plain_tb, QEMU_PLUGIN_CB_NO_REGS, (void *)(uintptr_t)n);
	} else {
		for (size_t k = 0; k < n; k++) {
			struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, k);
			uint32_t op = 0;
			if (qemu_plugin_insn_size(insn) == 4) memcpy(&op, qemu_plugin_insn_data(insn), 4);
			uintptr_t el = (qemu_plugin_insn_vaddr(insn) >> 63) ? 2 : 1;
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS,
							       (void *)(a64_is_fp(op) ? el : 0));
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
		else if (ARG("full")) full = atoi(v);
		else if (ARG("entries")) entries = atoi(v);
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
