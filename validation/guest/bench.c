/*
 * fpsw-bench: the workloads of the Linux L2 guest (static, aarch64), each bracketed by
 * the measurement window markers of mark.h (HINT #120/#121 for the TCG plugin, a fw_cfg
 * MMIO read for the kvm trace).
 *
 *   fpsw-bench nullsys N     N x getppid(), lmbench lat_syscall "null" style
 *   fpsw-bench pipe N [A B]  N round trips of 1 byte between two processes over two
 *                            pipes, lmbench lat_pipe style; with A B, the parent is pinned
 *                            to CPU A and the child to CPU B (sched_setaffinity)
 *   fpsw-bench idle MS       sleep MS milliseconds (an idle guest: timer and WFI exits)
 *   fpsw-bench run CMD ...   fork/exec CMD (e.g. hackbench) and wait for it
 *
 * Results go to stdout after the window has closed, so console MMIO exits stay out of it.
 * Each workload also prints the guest kernel's own count of context switches over the
 * window ("Guest context switches: N", the `ctxt` line of /proc/stat read just before the
 * window opens and just after it closes): the workload models' scheduler rates are
 * sourced from it.
 */
#define _GNU_SOURCE
#define PROG "fpsw-bench"
#include <sched.h>
#include <sys/wait.h>
#include "mark.h"

static double secs(uint64_t a, uint64_t b) { return (double)(b - a) * 1e-9; }

/* pin the calling process to one CPU (a no-op when cpu < 0) */
static void pin(int cpu)
{
	if (cpu < 0) return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set)) perror(PROG ": sched_setaffinity");
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
		t0 = now_ns();
		for (long k = 0; k < n; k++) (void)getppid();
		t1 = now_ns();
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
		t0 = now_ns();
		for (long k = 0; k < n; k++) {
			if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1) { perror("pipe io"); break; }
		}
		t1 = now_ns();
		mark_close();
		print_ctxt();
		close(a[1]);
		waitpid(pid, NULL, 0);
		printf("Pipe latency: %.4f microseconds\n", secs(t0, t1) * 1e6 / (double)n);
	} else if (strcmp(what, "idle") == 0) {
		struct timespec ts = { .tv_sec = n / 1000, .tv_nsec = (n % 1000) * 1000000L };
		mark_open();
		t0 = now_ns();
		nanosleep(&ts, NULL);
		t1 = now_ns();
		mark_close();
		print_ctxt();
		printf("Idle: %.4f seconds\n", secs(t0, t1));
	} else if (strcmp(what, "run") == 0) {
		int out = open("/tmp/run.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		mark_open();
		t0 = now_ns();
		pid_t pid = fork();
		if (pid == 0) {
			if (out >= 0) { dup2(out, 1); dup2(out, 2); }
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		t1 = now_ns();
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
