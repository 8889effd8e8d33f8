/*
 * nfvkit-ring: a single-producer single-consumer ring of 64-byte packets in a
 * shared-memory region, to measure what an ivshmem link between two guests
 * carries (and, on the host, what the same memory carries between two host
 * processes: the limit the guests are compared with).
 *
 * The region is any file that can be mapped shared: the ivshmem BAR inside a
 * guest (/sys/bus/pci/devices/<addr>/resource2), or its backing file on the
 * host (/dev/shm/<name> or a hugetlbfs file). Both ends map the same file.
 *
 *   nfvkit-ring consume --file F --session S [--burst N] [--cpu C] [--fifo P]
 *   nfvkit-ring produce --file F --session S [--burst N] [--cpu C] [--fifo P]
 *                       (--seconds T | --count N) [--drop SEQ] [--corrupt SEQ]
 *   nfvkit-ring pong    --file F --session S [--cpu C] [--fifo P]
 *   nfvkit-ring ping    --file F --session S [--cpu C] [--fifo P] (--seconds T | --count N)
 *
 *   nfvkit-ring tag     --file F --tag T       (host: label a link's backing file)
 *
 * A guest with several ivshmem links sees several BARs and cannot tell them
 * apart by address. So the host labels each link's backing file with a tag,
 * and in the guest --file takes a comma-separated list of candidates with
 * --tag T: the ring runs on the one region that carries T.
 *
 * consume and pong set the region up and must be started first (or at the
 * same time: the other side waits up to --wait seconds for them). The
 * session number, chosen by whoever starts both sides, tells a fresh set-up
 * from one left by an earlier run.
 *
 * Every packet carries its sequence number and a checksum of the rest; the
 * consumer checks both and reports the first bad sequence numbers by kind
 * (lost, reordered, corrupt). The last line on stdout is one JSON object;
 * diagnostics go to stderr.
 *
 * Exit codes: 0 clean run; 3 the run finished but packets were lost,
 * reordered or corrupt (the JSON says which); 2 bad usage or set-up (no
 * region, the other side never came, it stalled).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RING_VERSION "1"
#define MAGIC 0x676e69726b76666eULL /* "nfvkring" little-endian */
#define LINE 64
#define SLOTS_OFFSET 4096
#define MAX_SLOTS 16384
#define MAX_EVENTS 16
#define MAX_SECONDS 3600
#define MAX_RTT_SAMPLES (4u << 20)
#define TAG_OFFSET 2048 /* in the header page, after the header: set_up never clears it */
#define TAG_MAX 256

/* One packet: exactly one cache line, so a burst of 32 is 2 KiB. */
struct packet {
    uint64_t seq;
    uint64_t stamp_ns;    /* ping's send time in round-trip mode; 0 otherwise */
    uint32_t payload[11]; /* derived from seq, so the consumer can recompute it */
    uint32_t sum;         /* checksum of the 60 bytes before it */
};
_Static_assert(sizeof(struct packet) == 64, "a packet is 64 bytes");

/* Each index the two sides write sits on its own cache line: no false sharing. */
struct ring_index {
    volatile uint64_t head; /* packets published by the writer */
    uint8_t pad0[LINE - 8];
    volatile uint64_t tail; /* packets taken by the reader */
    uint8_t pad1[LINE - 8];
    volatile uint64_t done;  /* the writer's session once it has stopped */
    volatile uint64_t total; /* packets it published, valid once done is set */
    uint8_t pad2[LINE - 16];
};

struct header {
    volatile uint64_t magic;
    volatile uint64_t session; /* written last by the set-up side: the other side waits for it */
    volatile uint64_t slots;
    volatile uint64_t burst;
    uint8_t pad[LINE - 32];
    struct ring_index ring[2]; /* 0: producer/ping -> consumer/pong; 1: pong -> ping */
};
_Static_assert(sizeof(struct header) <= SLOTS_OFFSET, "the header fits before the slots");

struct options {
    const char *mode;
    const char *file;
    uint64_t session;
    unsigned burst;
    int cpu;
    int fifo;
    double seconds;
    uint64_t count;
    uint64_t drop;
    uint64_t corrupt;
    double wait;
    const char *tag;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t load_acquire(volatile uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void store_release(volatile uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static void die(const char *what) {
    fprintf(stderr, "nfvkit-ring: %s\n", what);
    exit(2);
}

/* A word-wise FNV-1a variant: any changed byte changes the sum. */
static uint32_t checksum(const struct packet *p) {
    const uint32_t *w = (const uint32_t *)p;
    uint32_t h = 2166136261u;
    for (int i = 0; i < 15; i++) h = (h ^ w[i]) * 16777619u;
    return h;
}

static void fill(struct packet *p, uint64_t seq, uint64_t stamp) {
    p->seq = seq;
    p->stamp_ns = stamp;
    for (int i = 0; i < 11; i++) p->payload[i] = (uint32_t)seq * 2654435761u + (uint32_t)i;
    p->sum = checksum(p);
}

/*
 * Waiting without a core to spare: a busy poll is what a fast path does, but
 * when both ends share one CPU (or the guest agent shares the vCPU) the
 * other side must get to run, so the poll yields every few thousand tries.
 */
static void relax(unsigned *spins) {
    if (++*spins % 4096 == 0) sched_yield();
    else __builtin_ia32_pause();
}

static void place(const struct options *o) {
    if (o->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(o->cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            fprintf(stderr, "nfvkit-ring: cannot pin to CPU %d: %s\n", o->cpu, strerror(errno));
            exit(2);
        }
    }
    if (o->fifo > 0) {
        struct sched_param sp = {.sched_priority = o->fifo};
        if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
            fprintf(stderr, "nfvkit-ring: cannot run at SCHED_FIFO %d: %s\n", o->fifo, strerror(errno));
            exit(2);
        }
    }
}

static struct header *map_one(const char *file, size_t *size) {
    int fd = open(file, O_RDWR | O_SYNC);
    if (fd < 0) {
        fprintf(stderr, "nfvkit-ring: cannot open %s: %s\n", file, strerror(errno));
        exit(2);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) die("cannot stat the region");
    *size = (size_t)st.st_size;
    if (*size < SLOTS_OFFSET + 2 * 64 * 64) {
        fprintf(stderr, "nfvkit-ring: %s holds %zu bytes; the ring needs at least %d\n", file, *size, SLOTS_OFFSET + 2 * 64 * 64);
        exit(2);
    }
    void *m = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) {
        fprintf(stderr, "nfvkit-ring: cannot map %s: %s\n", file, strerror(errno));
        exit(2);
    }
    close(fd);
    return (struct header *)m;
}

/* The region: the one file given, or among a comma-separated list the one that carries the tag. */
static struct header *map_region(const struct options *o, size_t *size) {
    if (!o->tag || strchr(o->file, ',') == NULL) {
        struct header *h = map_one(o->file, size);
        if (o->tag && strncmp((const char *)h + TAG_OFFSET, o->tag, TAG_MAX) != 0) {
            fprintf(stderr, "nfvkit-ring: %s does not carry the tag %s\n", o->file, o->tag);
            exit(2);
        }
        return h;
    }
    char *list = strdup(o->file), *save = NULL;
    for (char *f = strtok_r(list, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        struct header *h = map_one(f, size);
        if (strncmp((const char *)h + TAG_OFFSET, o->tag, TAG_MAX) == 0) return h;
        munmap(h, *size);
    }
    fprintf(stderr, "nfvkit-ring: none of %s carries the tag %s\n", o->file, o->tag);
    exit(2);
}

static int tag(struct header *h, size_t size, const struct options *o) {
    char *t = (char *)h + TAG_OFFSET;
    memset(t, 0, TAG_MAX);
    strncpy(t, o->tag, TAG_MAX - 1);
    msync(h, size, MS_SYNC);
    return 0;
}

/* Largest power of two of slots such that two rings fit, at most MAX_SLOTS. */
static uint64_t slots_for(size_t size) {
    uint64_t room = (size - SLOTS_OFFSET) / (2 * sizeof(struct packet));
    uint64_t s = 64;
    while (s * 2 <= room && s * 2 <= MAX_SLOTS) s *= 2;
    return s;
}

static struct packet *slots_of(struct header *h, int ring) {
    return (struct packet *)((uint8_t *)h + SLOTS_OFFSET) + (size_t)ring * h->slots;
}

/* The set-up side: clear both rings, then publish the session last. */
static void set_up(struct header *h, size_t size, const struct options *o) {
    store_release(&h->session, 0);
    h->magic = MAGIC;
    h->slots = slots_for(size);
    h->burst = o->burst;
    for (int r = 0; r < 2; r++) {
        h->ring[r].head = 0;
        h->ring[r].tail = 0;
        h->ring[r].total = 0;
        h->ring[r].done = 0;
    }
    store_release(&h->session, o->session);
}

static void await_set_up(struct header *h, const struct options *o) {
    uint64_t deadline = now_ns() + (uint64_t)(o->wait * 1e9);
    unsigned spins = 0;
    while (load_acquire(&h->session) != o->session || h->magic != MAGIC) {
        if (now_ns() > deadline) {
            fprintf(stderr, "nfvkit-ring: the other side did not set up session %llu within %.0f s\n", (unsigned long long)o->session, o->wait);
            exit(2);
        }
        relax(&spins);
    }
}

static int stop_now(const struct options *o, uint64_t sent, uint64_t started, uint64_t t) {
    if (o->count > 0) return sent >= o->count;
    return t - started >= (uint64_t)(o->seconds * 1e9);
}

static void print_common(const struct options *o, const struct header *h) {
    printf("{\"tool\":\"nfvkit-ring\",\"version\":\"%s\",\"role\":\"%s\",\"session\":%llu,\"burst\":%u,\"slots\":%llu,\"packetBytes\":%zu,"
           "\"cpu\":%d,\"fifo\":%d",
           RING_VERSION, o->mode, (unsigned long long)o->session, o->burst, (unsigned long long)h->slots, sizeof(struct packet), o->cpu, o->fifo);
}

static int produce(struct header *h, const struct options *o) {
    await_set_up(h, o);
    struct ring_index *r = &h->ring[0];
    struct packet *slots = slots_of(h, 0);
    uint64_t mask = h->slots - 1, head = 0, tail = 0, seq = 0;
    uint64_t burst = o->burst < h->slots ? o->burst : h->slots;
    uint64_t started = now_ns(), t = started, last_progress = started;
    unsigned spins = 0;
    while (!stop_now(o, head, started, t)) {
        uint64_t n = burst;
        if (o->count > 0 && o->count - head < n) n = o->count - head;
        while (head + n - tail > h->slots) {
            tail = load_acquire(&r->tail);
            if (head + n - tail <= h->slots) break;
            relax(&spins);
            if (spins % 65536 == 0 && now_ns() - last_progress > 10000000000ull) die("the consumer took nothing for 10 s");
        }
        for (uint64_t i = 0; i < n; i++) {
            /* Test modes: a dropped packet's number is never sent; a corrupt one has a flipped byte after its checksum. */
            if (o->drop != UINT64_MAX && seq == o->drop) seq++;
            struct packet *p = &slots[(head + i) & mask];
            fill(p, seq, 0);
            if (seq == o->corrupt) ((uint8_t *)p->payload)[5] ^= 0x5a;
            seq++;
        }
        head += n;
        store_release(&r->head, head);
        t = now_ns();
        last_progress = t;
    }
    r->total = head;
    store_release(&r->done, o->session);
    double secs = (double)(t - started) / 1e9;
    print_common(o, h);
    printf(",\"packets\":%llu,\"seconds\":%.6f}\n", (unsigned long long)head, secs);
    return 0;
}

struct events {
    unsigned n;
    struct {
        const char *kind;
        uint64_t seq;
    } e[MAX_EVENTS];
    uint64_t lost, reordered, corrupt;
};

static void note(struct events *ev, const char *kind, uint64_t seq) {
    if (ev->n < MAX_EVENTS) {
        ev->e[ev->n].kind = kind;
        ev->e[ev->n].seq = seq;
        ev->n++;
    }
}

/* Checks one packet against the sequence number expected next; returns the next expected one. */
static uint64_t verify(const struct packet *p, uint64_t expected, struct events *ev) {
    struct packet copy = *p;
    if (copy.sum != checksum(&copy)) {
        ev->corrupt++;
        note(ev, "corrupt", copy.seq);
        return expected + 1;
    }
    if (copy.seq > expected) {
        for (uint64_t s = expected; s < copy.seq && ev->n < MAX_EVENTS; s++) note(ev, "lost", s);
        ev->lost += copy.seq - expected;
        return copy.seq + 1;
    }
    if (copy.seq < expected) {
        ev->reordered++;
        note(ev, "reordered", copy.seq);
        return expected;
    }
    uint32_t want[11];
    for (int i = 0; i < 11; i++) want[i] = (uint32_t)copy.seq * 2654435761u + (uint32_t)i;
    if (memcmp(want, copy.payload, sizeof want) != 0) {
        /* A checksum that matches a wrong payload: written with the wrong number. */
        ev->corrupt++;
        note(ev, "corrupt", copy.seq);
    }
    return expected + 1;
}

static void print_events(const struct events *ev) {
    printf(",\"lost\":%llu,\"reordered\":%llu,\"corrupt\":%llu,\"events\":[", (unsigned long long)ev->lost, (unsigned long long)ev->reordered,
           (unsigned long long)ev->corrupt);
    for (unsigned i = 0; i < ev->n; i++) printf("%s{\"kind\":\"%s\",\"seq\":%llu}", i ? "," : "", ev->e[i].kind, (unsigned long long)ev->e[i].seq);
    printf("]");
}

static int consume(struct header *h, size_t size, const struct options *o) {
    set_up(h, size, o);
    struct ring_index *r = &h->ring[0];
    struct packet *slots = slots_of(h, 0);
    uint64_t mask = h->slots - 1, tail = 0, expected = 0, first = 0, last = 0, max_gap = 0, max_gap_at = 0;
    static uint64_t per_second[MAX_SECONDS];
    unsigned seconds_used = 0, spins = 0;
    struct events ev = {0};
    uint64_t waiting_since = now_ns();
    for (;;) {
        uint64_t head = load_acquire(&r->head);
        if (head == tail) {
            if (load_acquire(&r->done) == o->session && tail == r->total) break;
            relax(&spins);
            if (spins % 65536 == 0) {
                /* Before the first packet the producer may still be starting; after it, a pause this long is a stall. */
                uint64_t limit = first == 0 ? (uint64_t)(o->wait * 1e9) : 10000000000ull;
                if (now_ns() - waiting_since > limit) die(first == 0 ? "no packet arrived: the producer never started" : "the producer stalled for 10 s");
            }
            continue;
        }
        for (uint64_t i = tail; i < head; i++) expected = verify(&slots[i & mask], expected, &ev);
        uint64_t n = head - tail;
        tail = head;
        store_release(&r->tail, tail);
        uint64_t t = now_ns();
        if (first == 0) first = t;
        /* The longest wait between two arrivals: a producer stalled for N ms shows as a gap of N ms here. */
        else if (t - last > max_gap) {
            max_gap = t - last;
            max_gap_at = last - first;
        }
        last = t;
        waiting_since = t;
        uint64_t sec = (t - first) / 1000000000ull;
        if (sec < MAX_SECONDS) {
            per_second[sec] += n;
            if (sec + 1 > seconds_used) seconds_used = (unsigned)sec + 1;
        }
    }
    /* A loss at the very end shows as fewer packets than the producer published. */
    if (expected < r->total) {
        for (uint64_t s = expected; s < r->total && ev.n < MAX_EVENTS; s++) note(&ev, "lost", s);
        ev.lost += r->total - expected;
    }
    double secs = (double)(last - first) / 1e9;
    print_common(o, h);
    printf(",\"packets\":%llu,\"producerPackets\":%llu,\"seconds\":%.6f,\"mpps\":%.6f,\"nsPerPacket\":%.3f", (unsigned long long)tail,
           (unsigned long long)r->total, secs, secs > 0 ? (double)tail / secs / 1e6 : 0.0, tail > 0 ? (double)(last - first) / (double)tail : 0.0);
    /* Per-second samples: packets in each second after the first packet; the last one covers lastSecondNs. */
    printf(",\"perSecond\":[");
    for (unsigned i = 0; i < seconds_used; i++) printf("%s%llu", i ? "," : "", (unsigned long long)per_second[i]);
    printf("],\"lastSecondNs\":%llu", seconds_used > 0 ? (unsigned long long)((last - first) - (uint64_t)(seconds_used - 1) * 1000000000ull) : 0ull);
    printf(",\"maxGapNs\":%llu,\"maxGapAtNs\":%llu", (unsigned long long)max_gap, (unsigned long long)max_gap_at);
    print_events(&ev);
    printf("}\n");
    return ev.lost + ev.reordered + ev.corrupt > 0 ? 3 : 0;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static uint64_t percentile(const uint64_t *sorted, uint64_t n, double q) {
    uint64_t rank = (uint64_t)(q * (double)n + 0.999999999);
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

static int ping(struct header *h, const struct options *o) {
    await_set_up(h, o);
    struct ring_index *out = &h->ring[0], *in = &h->ring[1];
    struct packet *tx = slots_of(h, 0), *rx = slots_of(h, 1);
    uint64_t mask = h->slots - 1, n = 0;
    uint64_t cap = o->count > 0 && o->count < MAX_RTT_SAMPLES ? o->count : MAX_RTT_SAMPLES;
    uint64_t *rtt = malloc(cap * sizeof *rtt);
    if (!rtt) die("out of memory for round-trip samples");
    struct events ev = {0};
    uint64_t started = now_ns(), t = started;
    unsigned spins = 0;
    while (!stop_now(o, n, started, t) && n < cap) {
        fill(&tx[n & mask], n, now_ns());
        store_release(&out->head, n + 1);
        uint64_t sent_at = now_ns();
        while (load_acquire(&in->head) == n) {
            relax(&spins);
            if (spins % 65536 == 0 && now_ns() - sent_at > 10000000000ull) die("no reply for 10 s: the pong side stalled");
        }
        struct packet back = rx[n & mask];
        t = now_ns();
        verify(&back, n, &ev);
        rtt[n] = t - back.stamp_ns;
        n++;
        store_release(&in->tail, n);
        store_release(&out->tail, n);
    }
    out->total = n;
    store_release(&out->done, o->session);
    qsort(rtt, n, sizeof *rtt, cmp_u64);
    double sum = 0;
    for (uint64_t i = 0; i < n; i++) sum += (double)rtt[i];
    print_common(o, h);
    printf(",\"roundTrips\":%llu,\"seconds\":%.6f", (unsigned long long)n, (double)(t - started) / 1e9);
    if (n > 0)
        printf(",\"minNs\":%llu,\"avgNs\":%.1f,\"p50Ns\":%llu,\"p99Ns\":%llu,\"p999Ns\":%llu,\"maxNs\":%llu", (unsigned long long)rtt[0], sum / (double)n,
               (unsigned long long)percentile(rtt, n, 0.50), (unsigned long long)percentile(rtt, n, 0.99), (unsigned long long)percentile(rtt, n, 0.999),
               (unsigned long long)rtt[n - 1]);
    print_events(&ev);
    printf("}\n");
    free(rtt);
    return ev.lost + ev.reordered + ev.corrupt > 0 ? 3 : 0;
}

static int pong(struct header *h, size_t size, const struct options *o) {
    set_up(h, size, o);
    struct ring_index *in = &h->ring[0], *out = &h->ring[1];
    struct packet *rx = slots_of(h, 0), *tx = slots_of(h, 1);
    uint64_t mask = h->slots - 1, n = 0, waiting_since = now_ns();
    unsigned spins = 0;
    for (;;) {
        if (load_acquire(&in->head) == n) {
            if (load_acquire(&in->done) == o->session && in->total == n) break;
            relax(&spins);
            if (spins % 65536 == 0 && now_ns() - waiting_since > (uint64_t)(o->wait * 1e9)) die("the ping side stopped sending");
            continue;
        }
        tx[n & mask] = rx[n & mask]; /* echo as it came: ping checks it */
        n++;
        store_release(&out->head, n);
        waiting_since = now_ns();
    }
    print_common(o, h);
    printf(",\"roundTrips\":%llu}\n", (unsigned long long)n);
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: nfvkit-ring consume|produce|ping|pong --file REGION[,REGION...] --session N [--tag T] [--burst 32] [--cpu C]\n"
            "                   [--fifo PRIO] [--seconds T | --count N] [--drop SEQ] [--corrupt SEQ] [--wait SECONDS]\n"
            "       nfvkit-ring tag --file REGION --tag T\n");
    exit(2);
}

static uint64_t number(const char *s, const char *flag) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s) {
        fprintf(stderr, "nfvkit-ring: %s takes a whole number, got \"%s\"\n", flag, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    struct options o = {.mode = argv[1], .burst = 32, .cpu = -1, .fifo = 0, .drop = UINT64_MAX, .corrupt = UINT64_MAX, .wait = 60};
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(f, "--file")) o.file = v;
        else if (!strcmp(f, "--session")) o.session = number(v, f);
        else if (!strcmp(f, "--burst")) o.burst = (unsigned)number(v, f);
        else if (!strcmp(f, "--cpu")) o.cpu = (int)number(v, f);
        else if (!strcmp(f, "--fifo")) o.fifo = (int)number(v, f);
        else if (!strcmp(f, "--seconds")) o.seconds = strtod(v, NULL);
        else if (!strcmp(f, "--count")) o.count = number(v, f);
        else if (!strcmp(f, "--drop")) o.drop = number(v, f);
        else if (!strcmp(f, "--corrupt")) o.corrupt = number(v, f);
        else if (!strcmp(f, "--wait")) o.wait = strtod(v, NULL);
        else if (!strcmp(f, "--tag")) o.tag = v;
        else usage();
    }
    if (!o.file) usage();
    if (!strcmp(o.mode, "tag")) {
        if (!o.tag || strlen(o.tag) >= TAG_MAX) die("tag needs --tag of at most 255 bytes");
        size_t size;
        struct header *h = map_one(o.file, &size);
        return tag(h, size, &o);
    }
    if (o.session == 0) usage();
    if (o.burst < 1 || o.burst > 1024) die("--burst must be from 1 to 1024");
    int sends = !strcmp(o.mode, "produce") || !strcmp(o.mode, "ping");
    if (sends && o.count == 0 && o.seconds <= 0) die("produce and ping need --seconds or --count");
    size_t size;
    struct header *h = map_region(&o, &size);
    place(&o);
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    if (!strcmp(o.mode, "produce")) return produce(h, &o);
    if (!strcmp(o.mode, "consume")) return consume(h, size, &o);
    if (!strcmp(o.mode, "ping")) return ping(h, &o);
    if (!strcmp(o.mode, "pong")) return pong(h, size, &o);
    usage();
    return 2;
}
