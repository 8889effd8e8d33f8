/*
 * nfvkit-load: the latency probe's guest load (`load: guest`).
 *
 * Keeps each listed CPU busy at normal priority for SECONDS: one thread per
 * CPU, pinned there, doing integer arithmetic until the time is up, so the
 * probe measures its RT vCPU while the guest's housekeeping vCPUs are loaded,
 * as a noisy guest would load them. It is the kit's own, small and static,
 * instead of stress-ng, whose libraries were three quarters of the guest's
 * initramfs and so of every guest's boot (docs/guest-image.md).
 *
 * One process with threads, so `kill <pid>` ends the whole load at once.
 *
 * Usage: nfvkit-load CPU_LIST SECONDS   (CPU_LIST as taskset -c: 0,2 or 1-3)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long long deadline_ns;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void usage(const char *why)
{
	fprintf(stderr, "nfvkit-load: %s\nusage: nfvkit-load CPU_LIST SECONDS   (CPU_LIST as taskset -c: 0,2 or 1-3)\n", why);
	exit(2);
}

static void *spin(void *arg)
{
	long cpu = (long)arg;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err != 0) {
		fprintf(stderr, "nfvkit-load: cannot pin to CPU %ld: %s\n", cpu, strerror(err));
		exit(1);
	}
	/* volatile: the arithmetic is the point, the compiler must not drop it. */
	volatile unsigned long x = (unsigned long)cpu + 1;
	while (now_ns() < deadline_ns)
		for (int i = 0; i < 100000; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	return NULL;
}

/* The CPUs of a list such as "0,2" or "1-3", as taskset -c reads it. */
static int parse_cpus(const char *list, long *cpus, int max)
{
	const char *malformed = "CPU_LIST must be CPU numbers and ranges, such as 0,2 or 1-3";
	int n = 0;
	char *copy = strdup(list), *save = NULL;
	for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
		char *end;
		long first = strtol(part, &end, 10), last = first;
		if (end == part || first < 0)
			usage(malformed);
		if (*end == '-') {
			char *dash = end + 1;
			last = strtol(dash, &end, 10);
			if (end == dash || last < first)
				usage(malformed);
		}
		if (*end != '\0')
			usage(malformed);
		for (long c = first; c <= last; c++) {
			if (n == max || c >= CPU_SETSIZE)
				usage("CPU_LIST names too many CPUs");
			cpus[n++] = c;
		}
	}
	free(copy);
	if (n == 0)
		usage("CPU_LIST names no CPU");
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		usage("two arguments are needed");
	long cpus[CPU_SETSIZE];
	int n = parse_cpus(argv[1], cpus, CPU_SETSIZE);
	char *end;
	long seconds = strtol(argv[2], &end, 10);
	if (*argv[2] == '\0' || *end != '\0' || seconds <= 0)
		usage("SECONDS must be a whole number above 0");

	deadline_ns = now_ns() + seconds * 1000000000LL;
	pthread_t threads[CPU_SETSIZE];
	for (int i = 0; i < n; i++) {
		int err = pthread_create(&threads[i], NULL, spin, (void *)cpus[i]);
		if (err != 0) {
			fprintf(stderr, "nfvkit-load: cannot start a thread for CPU %ld: %s\n", cpus[i], strerror(err));
			return 1;
		}
	}
	for (int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	return 0;
}
