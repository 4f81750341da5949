/*
 * fpsw-bench: the workloads of the Linux L2 guest (static, aarch64), each bracketed by
 * the measurement window markers:
 *   - HINT #120 / HINT #121 (NOPs) for the TCG plugin in the outer QEMU (fprun.c), which
 *     opens its window at the first guest entry after HINT #120 (the one after the
 *     fw_cfg read below) and closes it at HINT #121, and
 *   - a 4-byte MMIO read of QEMU virt's fw_cfg data register (unclaimed: its driver is a
 *     module we never load) at 0x09020000 (open) / 0x09020004 (close), which shows up in
 *     L1's kvm trace as kvm_exit (DABT_LOW) + kvm_mmio "mmio read len 4 gpa 0x9020000" +
 *     kvm_userspace_exit, so the trace carries the same bounds.
 *
 *   fpsw-bench nullsys N     N x getppid(), lmbench lat_syscall "null" style
 *   fpsw-bench pipe N [A B]  N round trips of 1 byte between two processes over two
 *                            pipes, lmbench lat_pipe style; with A B, the parent is pinned
 *                            to CPU A and the child to CPU B (sched_setaffinity)
 *   fpsw-bench idle MS       sleep MS milliseconds (an idle guest: timer and WFI exits)
 *   fpsw-bench run CMD ...   fork/exec CMD (e.g. hackbench) and wait for it
 *
 * FPSW_TAG=k in the environment makes it execute HINT #122 k times before opening the
 * window, so the plugin's window line names the workload.
 *
 * Results go to stdout after the window has closed, so console MMIO exits stay out of it.
 * Each workload also prints the guest kernel's own count of context switches over the
 * window ("Guest context switches: N", the `ctxt` line of /proc/stat read just before the
 * window opens and just after it closes): the workload models' scheduler rates are
 * sourced from it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FW_CFG_DATA 0x09020000UL

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

static long long ctxt0;

static void print_ctxt(void)
{
	long long c1 = ctxt();
	if (ctxt0 >= 0 && c1 >= 0) printf("Guest context switches: %lld\n", c1 - ctxt0);
}

/* integer nanoseconds: no FP/SIMD instruction inside the window (converting to double
 * there would be the window's only user FP use; the results are computed after it closes) */
static uint64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double secs(uint64_t a, uint64_t b) { return (double)(b - a) * 1e-9; }

/* pin the calling process to one CPU (a no-op when cpu < 0) */
static void pin(int cpu)
{
	if (cpu < 0) return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set)) perror("fpsw-bench: sched_setaffinity");
}

static void mark_setup(void)
{
	int fd = open("/dev/mem", O_RDONLY | O_SYNC);
	if (fd < 0) { perror("fpsw-bench: /dev/mem"); return; }
	void *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, FW_CFG_DATA);
	if (p == MAP_FAILED) { perror("fpsw-bench: mmap fw_cfg"); close(fd); return; }
	fwcfg = p;
	close(fd);
}

static void mark_open(void)
{
	const char *t = getenv("FPSW_TAG"); /* the window's tag: hint #122 executed that many times */
	int tag = t ? atoi(t) : 0;
	ctxt0 = ctxt();
	for (int k = 0; k < tag; k++) __asm__ volatile("hint #122" ::: "memory");
	__asm__ volatile("hint #120" ::: "memory"); /* the plugin opens at the entry after the read's exit */
	if (fwcfg) (void)fwcfg[0];
}

static void mark_close(void)
{
	__asm__ volatile("hint #121" ::: "memory");
	if (fwcfg) (void)fwcfg[1];
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: fpsw-bench nullsys N | pipe N [CPU_A CPU_B] | idle MS | run CMD...\n");
		return 2;
	}
	const char *what = argv[1];
	long n = strtol(argv[2], NULL, 0);
	mark_setup();
	uint64_t t0, t1;
	if (strcmp(what, "nullsys") == 0) {
		mark_open();
		t0 = now();
		for (long k = 0; k < n; k++) (void)getppid();
		t1 = now();
		mark_close();
		print_ctxt();
		printf("Simple syscall: %.4f microseconds\n", secs(t0, t1) * 1e6 / (double)n);
	} else if (strcmp(what, "pipe") == 0) {
		int a[2], b[2];
		char c = 'x';
		int cpu_parent = argc > 4 ? atoi(argv[3]) : -1, cpu_child = argc > 4 ? atoi(argv[4]) : -1;
		if (pipe(a) || pipe(b)) { perror("pipe"); return 1; }
		pid_t pid = fork();
		if (pid == 0) {
			pin(cpu_child);
			close(a[1]);
			close(b[0]);
			for (;;) {
				if (read(a[0], &c, 1) != 1) _exit(0);
				if (write(b[1], &c, 1) != 1) _exit(0);
			}
		}
		close(a[0]);
		close(b[1]);
		pin(cpu_parent);
		mark_open();
		t0 = now();
		for (long k = 0; k < n; k++) {
			if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1) { perror("pipe io"); break; }
		}
		t1 = now();
		mark_close();
		print_ctxt();
		close(a[1]);
		waitpid(pid, NULL, 0);
		printf("Pipe latency: %.4f microseconds\n", secs(t0, t1) * 1e6 / (double)n);
	} else if (strcmp(what, "idle") == 0) {
		struct timespec ts = { .tv_sec = n / 1000, .tv_nsec = (n % 1000) * 1000000L };
		mark_open();
		t0 = now();
		nanosleep(&ts, NULL);
		t1 = now();
		mark_close();
		print_ctxt();
		printf("Idle: %.4f seconds\n", secs(t0, t1));
	} else if (strcmp(what, "run") == 0) {
		int out = open("/tmp/run.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		mark_open();
		t0 = now();
		pid_t pid = fork();
		if (pid == 0) {
			if (out >= 0) { dup2(out, 1); dup2(out, 2); }
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		t1 = now();
		mark_close();
		print_ctxt();
		if (out >= 0) close(out);
		printf("Run: %s exit=%d %.4f seconds\n", argv[2], WIFEXITED(st) ? WEXITSTATUS(st) : -1, secs(t0, t1));
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	} else {
		fprintf(stderr, "fpsw-bench: unknown workload %s\n", what);
		return 2;
	}
	return 0;
}
