/*
 * fpsw-bench32: the workload of the 32-bit (armhf) Linux L2 guest, static, A32 (-marm), VFP
 * hard-float: the configuration of the `fp-heavy-aarch32` workload (two VFP-heavy compute
 * processes next to one integer process on one vCPU), bracketed by the same window
 * markers as fpsw-bench (mark.h, in their A32 encodings).
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
#define PROG "fpsw-bench32"
#include <sys/wait.h>
#include "mark.h"

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
	print_ctxt();
	close(pfd[1]);
	unsigned long it;
	for (int k = 0; read(pfd[0], &it, sizeof it) == sizeof it; k++) printf("Iterations %d: %lu\n", k, it);
	printf("Mix: %d VFP + %d integer processes, %ld ms\n", nfp, nint, ms);
	return 0;
}
