/*
 * nfvkit-migload: the migration probe's load and its independent clock.
 *
 *   send  --to ADDR --port P --rate HZ --seconds S [--size BYTES]
 *         In the guest: UDP packets with a sequence number, paced at HZ by
 *         spinning on the clock (under TCG a timer sleep costs more than the
 *         0.1 ms period, and the stream would fall to a few hundred Hz).
 *         A sender that was paused (the switchover) does not catch up with a
 *         burst: it restarts its pacing, so a gap at the receiver is the time
 *         the guest could not send.
 *   recv  --bind ADDR --port P --seconds S [--gap-us G]
 *         On the control side: kernel receive timestamps (SO_TIMESTAMPNS,
 *         CLOCK_REALTIME) of every packet. Prints one JSON line per gap longer
 *         than G µs, then a summary line. Stops after S seconds or SIGTERM.
 *   dirty --mib M --rate MIBPS --seconds S
 *         In the guest: writes one byte in every 4 KiB page of M MiB, paced
 *         at MIBPS MiB/s, so the guest dirties memory at a known rate. Each
 *         pass writes a new value, so every write changes its page's content.
 *
 * Every mode prints JSON lines only, for the kit's parser.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x6e666d67u /* "nfmg" */

struct packet {
    uint32_t magic;
    uint32_t size;
    uint64_t seq;
    uint64_t sentNs;
};

static volatile sig_atomic_t stop;
static void onSignal(int sig) { (void)sig; stop = 1; }

static uint64_t nowNs(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const char *arg(int argc, char **argv, const char *name, const char *fallback) {
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return fallback;
}

static double num(int argc, char **argv, const char *name, double fallback) {
    const char *v = arg(argc, argv, name, NULL);
    return v ? atof(v) : fallback;
}

static void sleepUntil(uint64_t monoNs) {
    struct timespec ts = {.tv_sec = (time_t)(monoNs / 1000000000ull), .tv_nsec = (long)(monoNs % 1000000000ull)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop) {
    }
}

static int doSend(int argc, char **argv) {
    const char *to = arg(argc, argv, "--to", NULL);
    int port = (int)num(argc, argv, "--port", 0);
    double rate = num(argc, argv, "--rate", 10000);
    double seconds = num(argc, argv, "--seconds", 10);
    int size = (int)num(argc, argv, "--size", sizeof(struct packet));
    if (!to || port <= 0 || rate <= 0 || size < (int)sizeof(struct packet) || size > 1472) {
        fprintf(stderr, "nfvkit-migload send: need --to ADDR --port P, --rate > 0, --size %zu..1472\n", sizeof(struct packet));
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || inet_pton(AF_INET, to, &dst.sin_addr) != 1) {
        perror("nfvkit-migload send: socket");
        return 2;
    }
    char buf[1472] = {0};
    struct packet *p = (struct packet *)buf;
    p->magic = MAGIC;
    p->size = (uint32_t)size;
    uint64_t period = (uint64_t)(1e9 / rate);
    uint64_t start = nowNs(CLOCK_MONOTONIC), end = start + (uint64_t)(seconds * 1e9), next = start;
    uint64_t sent = 0, errors = 0, restarts = 0;
    while (!stop && next < end) {
        while (nowNs(CLOCK_MONOTONIC) < next) {
        }
        p->seq = sent;
        p->sentNs = nowNs(CLOCK_REALTIME);
        if (sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&dst, sizeof dst) < 0) errors++;
        sent++;
        next += period;
        uint64_t now = nowNs(CLOCK_MONOTONIC);
        /* Paused or starved for more than a period: restart the pacing instead of sending a burst. */
        if (now > next + period) {
            next = now;
            restarts++;
        }
    }
    printf("{\"mode\":\"send\",\"sent\":%llu,\"errors\":%llu,\"restarts\":%llu,\"rateHz\":%.0f,\"size\":%d}\n", (unsigned long long)sent,
           (unsigned long long)errors, (unsigned long long)restarts, rate, size);
    return 0;
}

static int doRecv(int argc, char **argv) {
    const char *bindTo = arg(argc, argv, "--bind", "0.0.0.0");
    int port = (int)num(argc, argv, "--port", 0);
    double seconds = num(argc, argv, "--seconds", 60);
    double gapUs = num(argc, argv, "--gap-us", 1000);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int on = 1, rcvbuf = 8 << 20;
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || port <= 0 || inet_pton(AF_INET, bindTo, &me.sin_addr) != 1) {
        fprintf(stderr, "nfvkit-migload recv: need --bind ADDR --port P\n");
        return 2;
    }
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
        perror("nfvkit-migload recv: bind");
        return 2;
    }
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    signal(SIGTERM, onSignal);
    signal(SIGINT, onSignal);
    printf("{\"mode\":\"recv\",\"ready\":true,\"port\":%d}\n", port);
    fflush(stdout);
    uint64_t end = nowNs(CLOCK_MONOTONIC) + (uint64_t)(seconds * 1e9);
    uint64_t packets = 0, lost = 0, reordered = 0, lastSeq = 0, lastNs = 0, firstNs = 0, maxGapNs = 0, bytes = 0;
    /* Intervals in µs, for the median spacing: the stream's real resolution. */
    static uint64_t hist[100001];
    char buf[2048], ctrl[256];
    while (!stop && nowNs(CLOCK_MONOTONIC) < end) {
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl, .msg_controllen = sizeof ctrl};
        ssize_t n = recvmsg(fd, &msg, 0);
        if (n < 0) continue;
        struct packet *p = (struct packet *)buf;
        if (n < (ssize_t)sizeof *p || p->magic != MAGIC) continue;
        uint64_t at = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                at = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
            }
        if (!at) at = nowNs(CLOCK_REALTIME);
        bytes += (uint64_t)n;
        if (packets == 0) {
            firstNs = at;
        } else {
            if (p->seq <= lastSeq) {
                reordered++;
                continue;
            }
            lost += p->seq - lastSeq - 1;
            uint64_t gap = at > lastNs ? at - lastNs : 0;
            uint64_t us = gap / 1000;
            hist[us > 100000 ? 100000 : us]++;
            if (gap > maxGapNs) maxGapNs = gap;
            if ((double)gap / 1000.0 > gapUs)
                printf("{\"gap\":{\"startNs\":%llu,\"endNs\":%llu,\"us\":%.1f,\"seqBefore\":%llu,\"seqAfter\":%llu}}\n", (unsigned long long)lastNs,
                       (unsigned long long)at, (double)gap / 1000.0, (unsigned long long)lastSeq, (unsigned long long)p->seq);
        }
        packets++;
        lastSeq = p->seq;
        lastNs = at;
    }
    uint64_t seen = 0, median = 0, intervals = packets > 1 ? packets - 1 - reordered : 0;
    for (int i = 0; i <= 100000 && intervals > 0; i++) {
        seen += hist[i];
        if (seen * 2 >= intervals) {
            median = (uint64_t)i;
            break;
        }
    }
    printf("{\"mode\":\"recv\",\"packets\":%llu,\"lost\":%llu,\"reordered\":%llu,\"bytes\":%llu,\"firstNs\":%llu,\"lastNs\":%llu,\"maxGapUs\":%.1f,"
           "\"medianIntervalUs\":%llu}\n",
           (unsigned long long)packets, (unsigned long long)lost, (unsigned long long)reordered, (unsigned long long)bytes,
           (unsigned long long)firstNs, (unsigned long long)lastNs, (double)maxGapNs / 1000.0, (unsigned long long)median);
    return 0;
}

static int doDirty(int argc, char **argv) {
    double mib = num(argc, argv, "--mib", 64);
    double rate = num(argc, argv, "--rate", 64);
    double seconds = num(argc, argv, "--seconds", 10);
    if (mib <= 0 || rate <= 0) {
        fprintf(stderr, "nfvkit-migload dirty: need --mib > 0 and --rate > 0\n");
        return 2;
    }
    size_t bytes = (size_t)(mib * 1048576.0), pages = bytes / 4096;
    volatile unsigned char *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mem == MAP_FAILED) {
        perror("nfvkit-migload dirty: mmap");
        return 2;
    }
    signal(SIGTERM, onSignal);
    /* Work in 10 ms slices: each slice dirties its share of pages, then sleeps to the slice's end. */
    const uint64_t slice = 10000000ull;
    double pagesPerSlice = rate * 256.0 / 100.0, owed = 0;
    uint64_t start = nowNs(CLOCK_MONOTONIC), end = start + (uint64_t)(seconds * 1e9), next = start;
    uint64_t dirtied = 0;
    size_t page = 0;
    while (!stop && next < end) {
        owed += pagesPerSlice;
        while (owed >= 1) {
            /* The pass number, not a running count: with M MiB (a multiple of 256 pages) a running count's low byte
               was the same for a page on every pass, so a measurement that compares page contents (QEMU's
               page-sampling dirty rate) saw only the first pass. */
            mem[page * 4096] = (unsigned char)(dirtied / pages + 1);
            page = (page + 1) % pages;
            dirtied++;
            owed -= 1;
        }
        next += slice;
        uint64_t now = nowNs(CLOCK_MONOTONIC);
        if (now > next + slice) next = now; /* paused: do not catch up */
        sleepUntil(next);
    }
    double took = (double)(nowNs(CLOCK_MONOTONIC) - start) / 1e9;
    printf("{\"mode\":\"dirty\",\"mib\":%.0f,\"pagesDirtied\":%llu,\"seconds\":%.2f,\"mibps\":%.1f}\n", mib, (unsigned long long)dirtied, took,
           took > 0 ? (double)dirtied / 256.0 / took : 0.0);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "send") == 0) return doSend(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "recv") == 0) return doRecv(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "dirty") == 0) return doDirty(argc, argv);
    fprintf(stderr, "usage: nfvkit-migload send|recv|dirty ... (see the source's header)\n");
    return 2;
}
