/*
 * fpswitch validation VMM: a minimal KVM arm64 VMM that runs one scripted guest
 * (guest64.S or guest32.S) inside the L1 host, so that every exit is one we asked for.
 *
 *   vmm <guest.bin> <a64|a32> <variant> <iterations> [timeout_s] [tag]
 *
 * One vCPU, no irqchip, no devices: the guest's only exits are its HVCs (handled by
 * the host kernel's SMCCC handler), its MMIO stores to an unbacked IPA (KVM_EXIT_MMIO,
 * handled here in host userspace), and whatever the host causes (timer IRQs, ...).
 *
 * Around the run it executes marker HINTs (tag x hint #122, then hint #120 / hint #121:
 * NOPs on every CPU) that the TCG plugin (validation/plugin/fprun.c) logs, so the exception-log
 * counter knows which exceptions belong to this program; and it writes begin/end
 * lines to tracefs' trace_marker so the kvm trace carries the same bounds.
 *
 * Prints one line: "VMM-RESULT prog=<a64|a32>/<variant> iterations=N kvm_run=R
 *   mmio=M done=1" or "VMM-ERROR <reason>" (exit status 1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_BASE 0x40000000UL /* where the guest code is loaded and starts */
#define GUEST_SIZE 0x10000UL
#define MMIO_DATA 0x10000000UL  /* unbacked: KVM_EXIT_MMIO */
#define MMIO_DONE 0x10001000UL

#define CORE_REG(x) \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offsetof(struct kvm_regs, x) / sizeof(uint32_t)))

static volatile sig_atomic_t timed_out;
static void on_alarm(int sig) { (void)sig; timed_out = 1; }

static void fail(const char *what)
{
	printf("VMM-ERROR %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

static void set_reg(int vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&val };
	if (ioctl(vcpu, KVM_SET_ONE_REG, &r) < 0) fail("KVM_SET_ONE_REG");
}

static void trace_mark(const char *msg)
{
	int fd = open("/sys/kernel/tracing/trace_marker", O_WRONLY);
	if (fd < 0) return;
	if (write(fd, msg, strlen(msg)) < 0) { /* tracing may be off: not fatal */ }
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: vmm <guest.bin> <a64|a32> <variant> <iterations> [timeout_s] [tag]\n");
		return 2;
	}
	const char *image = argv[1];
	int a32 = strcmp(argv[2], "a32") == 0;
	uint64_t variant = strtoull(argv[3], NULL, 0);
	uint64_t iterations = strtoull(argv[4], NULL, 0);
	unsigned timeout = argc > 5 ? (unsigned)atoi(argv[5]) : 120;
	int tag = argc > 6 ? atoi(argv[6]) : 0;

	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) fail("open /dev/kvm");
	if (a32 && ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_EL1_32BIT) <= 0) {
		errno = ENOTSUP;
		fail("KVM_CAP_ARM_EL1_32BIT (no AArch32 EL1 on this CPU)");
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) fail("KVM_CREATE_VM");

	void *mem = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) fail("mmap guest memory");
	int img = open(image, O_RDONLY);
	if (img < 0) fail("open guest image");
	ssize_t n = read(img, mem, GUEST_SIZE);
	if (n <= 0) fail("read guest image");
	close(img);

	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = GUEST_BASE, .memory_size = GUEST_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) fail("KVM_SET_USER_MEMORY_REGION");

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0) fail("KVM_CREATE_VCPU");
	struct kvm_vcpu_init init;
	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0) fail("KVM_ARM_PREFERRED_TARGET");
	if (a32) init.features[0] |= 1u << KVM_ARM_VCPU_EL1_32BIT;
	if (ioctl(vcpu, KVM_ARM_VCPU_INIT, &init) < 0) fail("KVM_ARM_VCPU_INIT");

	int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0) fail("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED) fail("mmap kvm_run");

	if (a32) {
		/* AArch32 view: r0-r14 are x0-x14. SVC mode, A/I/F masked, ARM state. */
		set_reg(vcpu, CORE_REG(regs.pstate), 0x1d3);
		set_reg(vcpu, CORE_REG(regs.regs[4]), variant);
		set_reg(vcpu, CORE_REG(regs.regs[5]), iterations);
		set_reg(vcpu, CORE_REG(regs.regs[6]), MMIO_DATA);
		set_reg(vcpu, CORE_REG(regs.regs[7]), MMIO_DONE);
	} else {
		set_reg(vcpu, CORE_REG(regs.pstate), 0x3c5); /* EL1h, DAIF masked */
		set_reg(vcpu, CORE_REG(regs.regs[19]), variant);
		set_reg(vcpu, CORE_REG(regs.regs[20]), iterations);
		set_reg(vcpu, CORE_REG(regs.regs[21]), MMIO_DATA);
		set_reg(vcpu, CORE_REG(regs.regs[22]), MMIO_DONE);
	}
	set_reg(vcpu, CORE_REG(regs.pc), GUEST_BASE);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: KVM_RUN returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
	alarm(timeout);

	char msg[160];
	snprintf(msg, sizeof msg, "fpswitch-begin prog=%s/%llu iterations=%llu\n", argv[2],
		 (unsigned long long)variant, (unsigned long long)iterations);
	trace_mark(msg);
	for (int k = 0; k < tag; k++) __asm__ volatile("hint #122" ::: "memory"); /* plugin: window tag */
	__asm__ volatile("hint #120" ::: "memory"); /* plugin: measurement window opens */

	uint64_t kvm_runs = 0, mmio = 0;
	int done = 0;
	while (!done) {
		int r = ioctl(vcpu, KVM_RUN, 0);
		kvm_runs++;
		if (r < 0) {
			if (errno == EINTR && !timed_out) continue;
			__asm__ volatile("hint #121" ::: "memory");
			if (timed_out) {
				printf("VMM-ERROR timeout after %us (kvm_run=%llu)\n", timeout, (unsigned long long)kvm_runs);
				fflush(stdout);
				return 1;
			}
			fail("KVM_RUN");
		}
		switch (run->exit_reason) {
		case KVM_EXIT_MMIO:
			if (run->mmio.phys_addr == MMIO_DONE) done = 1;
			else mmio++;
			if (!run->mmio.is_write) memset(run->mmio.data, 0, sizeof run->mmio.data);
			break;
		case KVM_EXIT_INTR:
			break;
		default:
			__asm__ volatile("hint #121" ::: "memory");
			printf("VMM-ERROR unexpected exit_reason %u\n", run->exit_reason);
			fflush(stdout);
			return 1;
		}
	}
	__asm__ volatile("hint #121" ::: "memory"); /* plugin: measurement window closes */
	snprintf(msg, sizeof msg, "fpswitch-end prog=%s/%llu kvm_run=%llu mmio=%llu\n", argv[2],
		 (unsigned long long)variant, (unsigned long long)kvm_runs, (unsigned long long)mmio);
	trace_mark(msg);
	printf("VMM-RESULT prog=%s/%llu iterations=%llu kvm_run=%llu mmio=%llu done=1\n", argv[2],
	       (unsigned long long)variant, (unsigned long long)iterations, (unsigned long long)kvm_runs,
	       (unsigned long long)mmio);
	fflush(stdout);
	return 0;
}
