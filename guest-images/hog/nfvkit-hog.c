/*
 * nfvkit-hog: a known disturbance for the probes' known-answer tests.
 *
 * Pins itself to one CPU, switches to SCHED_FIFO at a priority above the
 * probe's, then spins for exactly SPIN_MS milliseconds, COUNT times, the
 * bursts starting EVERY_MS apart after an initial DELAY_MS. It busy-waits on
 * CLOCK_MONOTONIC (never sleeps) inside a burst, so the CPU is taken from
 * everything of lower priority for the whole burst, and prints each burst's
 * measured start and length so the test compares the probe with what really
 * happened, not with what was asked.
 *
 * Start it with DELAY_MS > 0 when the probe must see the burst alone: the
 * move onto the CPU then happens before a sleep, apart from the burst.
 *
 * Usage: nfvkit-hog CPU PRIORITY SPIN_MS COUNT EVERY_MS DELAY_MS
 * Output, one line per burst: "burst <i> start_ns <t> spin_us <measured>"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

/* The sleep between a burst and anything else the hog does on the CPU. */
#define GAP_NS (20 * 1000000LL)

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long arg(const char *s, const char *name)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 0) {
		fprintf(stderr, "nfvkit-hog: %s must be a whole number >= 0, got '%s'\n", name, s);
		exit(2);
	}
	return v;
}

static void sleep_until(long long t_ns)
{
	struct timespec ts = { .tv_sec = t_ns / 1000000000LL, .tv_nsec = t_ns % 1000000000LL };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: nfvkit-hog CPU PRIORITY SPIN_MS COUNT EVERY_MS DELAY_MS\n");
		return 2;
	}
	long cpu = arg(argv[1], "CPU"), prio = arg(argv[2], "PRIORITY"), spin_ms = arg(argv[3], "SPIN_MS");
	long count = arg(argv[4], "COUNT"), every_ms = arg(argv[5], "EVERY_MS"), delay_ms = arg(argv[6], "DELAY_MS");

	/*
	 * Priority first, then the move: a SCHED_OTHER task moved onto a CPU
	 * where a FIFO probe spins (oslat) would never run again to raise its
	 * own priority, and would fire its bursts after the probe ended.
	 * No page fault may lengthen a burst either.
	 */
	mlockall(MCL_CURRENT | MCL_FUTURE);
	struct sched_param sp = { .sched_priority = (int)prio };
	if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
		fprintf(stderr, "nfvkit-hog: cannot set SCHED_FIFO %ld: %s\n", prio, strerror(errno));
		return 1;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, "nfvkit-hog: cannot pin to CPU %ld: %s\n", cpu, strerror(errno));
		return 1;
	}

	long long first = now_ns() + delay_ms * 1000000LL;
	for (long i = 0; i < count; i++) {
		sleep_until(first + i * every_ms * 1000000LL);
		long long start = now_ns(), end = start + spin_ms * 1000000LL, t;
		do
			t = now_ns();
		while (t < end);
		/*
		 * Give the CPU back before anything else: printing, and exiting
		 * after the last burst, cost milliseconds under TCG, and done at
		 * once they would lengthen the probe's stall past the burst
		 * (oslat once saw 364 ms for a 300 ms burst). After a sleep they
		 * are separate, small stalls.
		 */
		sleep_until(t + GAP_NS);
		printf("burst %ld start_ns %lld spin_us %lld\n", i, start, (t - start) / 1000);
		fflush(stdout);
	}
	return 0;
}
