/*
 * The measurement window shared by the Linux L2 guests' programs, fpsw-bench (bench.c,
 * aarch64) and fpsw-bench32 (bench32.c, A32): the window markers, the guest's context
 * switch count over the window and an integer clock. Define PROG (the program's name, for
 * error messages) before including it.
 *
 * The markers, in this order:
 *   - HINT #122 x FPSW_TAG (from the environment), so the plugin's window line names the
 *     workload, then HINT #120 (open) / HINT #121 (close): NOPs the TCG plugin in the outer
 *     QEMU watches (validation/plugin/fprun.c opens its window at the first guest entry
 *     after HINT #120, the one after the fw_cfg read below, and closes it at HINT #121).
 *     AArch64: HINT #imm; A32: the hint space cond 0011 0010 0000 1111 0000 imm8 (Arm ARM
 *     F5.1.92), written as .inst so the assembler takes it for any -march;
 *   - a 4-byte MMIO read of QEMU virt's fw_cfg data register (unclaimed: its driver is a
 *     module we never load) at 0x09020000 (open) / 0x09020004 (close) through /dev/mem,
 *     which shows up in L1's kvm trace as kvm_exit (DABT_LOW) + kvm_mmio "mmio read len 4
 *     gpa 0x9020000" + kvm_userspace_exit, so the trace carries the same bounds.
 */
#ifndef FPSW_MARK_H
#define FPSW_MARK_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define FW_CFG_DATA 0x09020000UL

#if defined(__aarch64__)
#define HINT(n) __asm__ volatile("hint #" #n ::: "memory")
#elif defined(__arm__)
#define HINT(n) __asm__ volatile(".inst 0xe320f000 + " #n ::: "memory")
#else
#error "mark.h: the window markers are written for aarch64 and A32 only"
#endif

static volatile uint32_t *fwcfg;

/* the `ctxt` field of /proc/stat: context switches since boot, all CPUs */
static long long ctxt(void)
{
	FILE *f = fopen("/proc/stat", "r");
	if (!f) return -1;
	char line[512];
	long long v = -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "ctxt ", 5) == 0) { v = atoll(line + 5); break; }
	fclose(f);
	return v;
}

/* ctxt() just before the window opened */
static long long ctxt0;

/* "Guest context switches: N" over the window (call after mark_close) */
static void print_ctxt(void)
{
	long long c1 = ctxt();
	if (ctxt0 >= 0 && c1 >= 0) printf("Guest context switches: %lld\n", c1 - ctxt0);
}

/* integer nanoseconds: no FP/SIMD instruction inside the window (converting to double
 * there would be the window's only user FP use; the results are computed after it closes) */
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void mark_setup(void)
{
	int fd = open("/dev/mem", O_RDONLY | O_SYNC);
	if (fd < 0) { perror(PROG ": /dev/mem"); return; }
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, FW_CFG_DATA);
	if (p == MAP_FAILED) { perror(PROG ": mmap fw_cfg"); close(fd); return; }
	fwcfg = p;
	close(fd);
}

static void mark_open(void)
{
	const char *t = getenv("FPSW_TAG"); /* the window's tag: hint #122 executed that many times */
	int tag = t ? atoi(t) : 0;
	ctxt0 = ctxt();
	for (int k = 0; k < tag; k++) HINT(122);
	HINT(120); /* the plugin opens at the entry after the read's exit */
	if (fwcfg) (void)fwcfg[0];
}

static void mark_close(void)
{
	HINT(121);
	if (fwcfg) (void)fwcfg[1];
}

#endif
