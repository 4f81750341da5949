/*
 * fpsw-bench32: the workload of the 32-bit (armhf) Linux L2 guest, static, A32 (-marm), VFP
 * hard-float: the configuration of the `fp-heavy-aarch32` workload (two VFP-heavy compute
 * processes next to one integer process on one vCPU), bracketed by the same window
 * markers as fpsw-bench (bench.c), in their A32 encodings:
 *   - HINT #122 x tag, HINT #120 (open) / HINT #121 (close): A32 hint space
 *     (cond 0011 0010 0000 1111 0000 imm8, Arm ARM F5.1.92), NOPs the plugin watches;
 *   - a 4-byte read of QEMU virt's fw_cfg data register 0x09020000 (open) / 0x09020004
 *     (close) through /dev/mem, which L1's kvm trace shows as kvm_mmio.
 *
 *   fpsw-bench32 mix MS [NFP NINT]   NFP VFP processes (default 2) and NINT integer
 *                                    processes (default 1) compute for MS ms of guest time
 *
 * The VFP processes run a double-precision multiply-add loop (vmla.f64 / vadd.f64 / vldr
 * on a small array); the integer process a xorshift loop that touches no FP/SIMD register
 * (no libc calls inside: glibc's armhf memcpy may use NEON). Each checks the clock every
 * 4096 iterations (clock_gettime through the vDSO: integer code). Results (iterations per
 * process, the guest's context switches over the window) are printed after the window.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FW_CFG_DATA 0x09020000UL
#define HINT(n) __asm__ volatile(".inst 0xe320f000 + " #n ::: "memory")

static volatile uint32_t *fwcfg;

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

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void mark_setup(void)
{
	int fd = open("/dev/mem", O_RDONLY | O_SYNC);
	if (fd < 0) { perror("fpsw-bench32: /dev/mem"); return; }
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, FW_CFG_DATA);
	if (p == MAP_FAILED) { perror("fpsw-bench32: mmap fw_cfg"); close(fd); return; }
	fwcfg = p;
	close(fd);
}

static void mark_open(void)
{
	const char *t = getenv("FPSW_TAG");
	int tag = t ? atoi(t) : 0;
	for (int k = 0; k < tag; k++) HINT(122);
	HINT(120);
	if (fwcfg) (void)fwcfg[0];
}

static void mark_close(void)
{
	HINT(121);
	if (fwcfg) (void)fwcfg[1];
}

/* VFP-heavy: double multiply-add over a small array, until the deadline */
static unsigned long vfp_work(uint64_t until)
{
	static volatile double a[64], b[64];
	for (int k = 0; k < 64; k++) { a[k] = 1.0 + k * 1e-3; b[k] = 1.0 - k * 1e-3; }
	double s = 0;
	unsigned long it = 0;
	for (;;) {
		for (int k = 0; k < 64; k++) s = s * 0.999999 + a[k] * b[k];
		if ((++it & 63) == 0 && now_ns() >= until) break;
	}
	a[0] = s;
	return it;
}

/* integer only: xorshift, until the deadline */
static unsigned long int_work(uint64_t until)
{
	uint32_t x = 2463534242u;
	unsigned long it = 0;
	for (;;) {
		for (int k = 0; k < 4096; k++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; }
		if ((++it & 1) == 0 && now_ns() >= until) break;
	}
	__asm__ volatile("" : : "r"(x));
	return it;
}

int main(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "mix") != 0) {
		fprintf(stderr, "usage: fpsw-bench32 mix MS [NFP NINT]\n");
		return 2;
	}
	long ms = strtol(argv[2], NULL, 0);
	int nfp = argc > 3 ? atoi(argv[3]) : 2, nint = argc > 4 ? atoi(argv[4]) : 1;
	int pfd[2];
	if (pipe(pfd)) { perror("pipe"); return 1; }
	mark_setup();
	long long c0 = ctxt();
	mark_open();
	uint64_t until = now_ns() + (uint64_t)ms * 1000000ull;
	for (int k = 0; k < nfp + nint; k++) {
		pid_t pid = fork();
		if (pid == 0) {
			unsigned long it = k < nfp ? vfp_work(until) : int_work(until);
			if (write(pfd[1], &it, sizeof it) != sizeof it) _exit(1);
			_exit(0);
		}
	}
	for (int k = 0; k < nfp + nint; k++) wait(NULL);
	mark_close();
	long long c1 = ctxt();
	close(pfd[1]);
	if (c0 >= 0 && c1 >= 0) printf("Guest context switches: %lld\n", c1 - c0);
	unsigned long it;
	for (int k = 0; read(pfd[0], &it, sizeof it) == sizeof it; k++) printf("Iterations %d: %lu\n", k, it);
	printf("Mix: %d VFP + %d integer processes, %ld ms\n", nfp, nint, ms);
	return 0;
}
