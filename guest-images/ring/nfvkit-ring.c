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
 *   nfvkit-ring consume --file F --session S [--burst N] [--cpu C] [--fifo P] [--unchecked]
 *   nfvkit-ring produce --file F --session S [--burst N] [--cpu C] [--fifo P] [--unchecked]
 *                       (--seconds T | --count N) [--drop SEQ] [--reorder SEQ] [--corrupt SEQ]
 *   nfvkit-ring pong    --file F --session S [--cpu C] [--fifo P]
 *   nfvkit-ring ping    --file F --session S [--cpu C] [--fifo P] (--seconds T | --count N)
 *
 *   nfvkit-ring tag     --file F --tag T       (host: label a link's backing file)
 *   nfvkit-ring version                        (the wire format this build speaks, as JSON)
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
 * Every packet carries its sequence number, a payload derived from it and a
 * check word over the rest; the consumer checks all 64 bytes of every packet
 * and reports the first bad sequence numbers by kind (lost, reordered,
 * corrupt). --unchecked on both sides moves the same 64-byte lines through
 * the same ring with no checking at all: the ceiling of this layout on this
 * memory. The last line on stdout is one JSON object; diagnostics go to
 * stderr.
 *
 * Wire format 2 (format 1 was the first release): both sides must speak the
 * same one; each side of format 2 detects a format-1 peer and says so.
 *
 * Exit codes: 0 clean run; 3 the run finished but packets were lost,
 * reordered or corrupt (the JSON says which); 2 bad usage or set-up (no
 * region, the other side never came, it stalled, it speaks another format).
 */
#define _GNU_SOURCE
#include <emmintrin.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RING_FORMAT 2
#define MAGIC 0x676e69726b76666eULL /* "nfvkring" little-endian, as in format 1 */
#define LINE 64
#define SLOTS_OFFSET 4096
#define MAX_SLOTS 16384
#define MAX_EVENTS 16
#define MAX_GAPS 16
#define MAX_SECONDS 3600
#define MAX_RTT_SAMPLES (4u << 20)
#define TAG_OFFSET 2048 /* in the header page, after the header: set_up never clears it */
#define TAG_MAX 256
#define PAYLOAD_STEP 2654435761u

/*
 * The consumer takes at most this many packets before it publishes its tail,
 * so a producer waiting on a full ring gets room back without waiting for a
 * whole ring's worth of checking.
 */
#define CONSUME_CHUNK 256
/* The clock (about 20 ns a read) is read once per this many packets, not per burst. */
#define CLOCK_EVERY 1024
/* A wait this many empty polls long is timed (a gap); shorter ones cost no clock read. */
#define TIMED_WAIT_POLLS 256

/* One packet: exactly one cache line, so a burst of 32 is 2 KiB. */
struct packet {
    uint64_t seq;
    uint64_t stamp_ns;    /* ping's send time in round-trip mode; 0 otherwise */
    uint32_t payload[11]; /* (seq * PAYLOAD_STEP + i): the consumer recomputes it */
    uint32_t check;       /* weighted sum of the 15 words before it (check_of) */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct packet) == 64, "a packet is 64 bytes");

/*
 * What each side writes sits in its own 128-byte block: the producer's
 * (head, done, total) and the consumer's (tail) never share a cache line,
 * nor the pair of lines that Intel's adjacent-line prefetcher fetches
 * together.
 */
struct producer_side {
    volatile uint64_t head;  /* packets published */
    volatile uint64_t done;  /* the producer's session once it has stopped */
    volatile uint64_t total; /* packets it published, valid once done is set */
    uint8_t pad[2 * LINE - 24];
};
struct consumer_side {
    volatile uint64_t tail; /* packets taken */
    uint8_t pad[2 * LINE - 8];
};
struct ring_index {
    struct producer_side p;
    struct consumer_side c;
};

struct header {
    /* Where format 1 had them, so a format-1 side finds the same magic and session. */
    volatile uint64_t magic;
    volatile uint64_t session; /* written last by the set-up side: the other side waits for it */
    volatile uint64_t slots;
    volatile uint64_t burst;
    volatile uint64_t format;         /* RING_FORMAT of the set-up side (format 1 left this word alone) */
    volatile uint64_t format_session; /* the session again: format is this run's, not a stale one */
    volatile uint64_t checked;        /* 0: the set-up side runs --unchecked */
    uint8_t pad0[LINE - 56];
    /* Format 1's indices: a format-1 producer publishes its head at offset 64. Cleared, then watched. */
    volatile uint64_t format1_index[3 * LINE / 8];
    struct ring_index ring[2]; /* 0: producer/ping -> consumer/pong; 1: pong -> ping */
};
_Static_assert(offsetof(struct header, format1_index) == 64, "format 1's head word is at offset 64");
_Static_assert(offsetof(struct header, ring) % (2 * LINE) == 0, "each side's block is 128-byte aligned");
_Static_assert(sizeof(struct header) <= TAG_OFFSET, "the header fits before the tag");

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
    uint64_t reorder;
    uint64_t corrupt;
    double wait;
    const char *tag;
    int unchecked;
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

/*
 * The check word: the 15 32-bit words before it (sequence number low and
 * high, stamp low and high, payload) summed as sum(c_j * w_j) mod 2^32 with
 * distinct odd weights c_j. Any one flipped bit changes it (c_j * 2^k is
 * never 0 mod 2^32), and it is independent multiplies, not a chain.
 *
 * It is linear, and that is what makes the check cheap: from one packet to
 * the next, the sequence number grows by 1 and every payload word by
 * PAYLOAD_STEP, so the check word grows by a constant (STEP_CHECK), and the
 * whole 64-byte packet by a constant vector. Both sides walk the expected
 * packet forward with four vector adds; the consumer compares all 64 bytes
 * of what arrived with it (four compares). Only a packet that differs goes
 * the slow way (classify), where the check word tells a corrupt packet from
 * a misnumbered one. (Format 1 computed a 15-step FNV-1a chain per packet on
 * both sides.)
 */
static const uint32_t WEIGHT[15] = {0x9e3779b1u, 0x85ebca77u, 0xc2b2ae3du, 0x27d4eb2fu, 0x165667b1u, 0xd3a2646du, 0xfd7046c5u, 0xb55a4f09u,
                                    0x8f1bbcddu, 0x6ed9eba1u, 0xca62c1d7u, 0x5a827999u, 0x3c6ef373u, 0xa54ff53bu, 0x510e527fu};

static uint32_t check_of(const struct packet *p) {
    const uint32_t *w = (const uint32_t *)p;
    uint32_t sum = 0;
    for (int j = 0; j < 15; j++) sum += WEIGHT[j] * w[j];
    return sum;
}

/* What the check word grows by from packet seq to seq + 1 (while the low word of seq does not wrap). */
static uint32_t step_check(void) {
    uint32_t d = WEIGHT[0];
    for (int i = 0; i < 11; i++) d += WEIGHT[4 + i] * PAYLOAD_STEP;
    return d;
}

/* A packet as four 16-byte vectors: how both sides hold it in registers. */
struct lines {
    __m128i a, b, c, d;
};

static inline struct lines load_packet(const struct packet *p) {
    const __m128i *v = (const __m128i *)p;
    struct lines l = {_mm_load_si128(v), _mm_load_si128(v + 1), _mm_load_si128(v + 2), _mm_load_si128(v + 3)};
    return l;
}

/* The packet with number seq, computed from scratch. */
static struct lines packet_for(uint64_t seq, uint64_t stamp) {
    struct packet p;
    p.seq = seq;
    p.stamp_ns = stamp;
    for (int i = 0; i < 11; i++) p.payload[i] = (uint32_t)seq * PAYLOAD_STEP + (uint32_t)i;
    p.check = check_of(&p);
    return load_packet(&p);
}

/* From the packet for seq to the one for seq + 1: what it adds to each vector. */
struct lines_step {
    __m128i a, payload, d;
};

static struct lines_step packet_step(void) {
    struct lines_step s;
    s.a = _mm_set_epi64x(0, 1);
    s.payload = _mm_set1_epi32((int)PAYLOAD_STEP);
    s.d = _mm_setr_epi32((int)PAYLOAD_STEP, (int)PAYLOAD_STEP, (int)PAYLOAD_STEP, (int)step_check());
    return s;
}

/*
 * The next packet. When the low word of seq wraps (once per 2^32 packets)
 * the check word grows by another WEIGHT[1]; the consumer then finds a
 * packet unlike this one, classifies it as good and starts afresh from
 * packet_for, and the producer does the same before it (see produce).
 */
static inline struct lines next_packet(struct lines l, struct lines_step s) {
    l.a = _mm_add_epi64(l.a, s.a);
    l.b = _mm_add_epi32(l.b, s.payload);
    l.c = _mm_add_epi32(l.c, s.payload);
    l.d = _mm_add_epi32(l.d, s.d);
    return l;
}

static inline void store_packet(struct packet *p, struct lines l) {
    __m128i *v = (__m128i *)p;
    _mm_store_si128(v, l.a);
    _mm_store_si128(v + 1, l.b);
    _mm_store_si128(v + 2, l.c);
    _mm_store_si128(v + 3, l.d);
}

/* All 64 bytes equal: the fast path's whole check, since a good packet is fully known from its number. */
static inline int same_packet(struct lines x, struct lines y) {
    __m128i eq = _mm_and_si128(_mm_and_si128(_mm_cmpeq_epi32(x.a, y.a), _mm_cmpeq_epi32(x.b, y.b)),
                               _mm_and_si128(_mm_cmpeq_epi32(x.c, y.c), _mm_cmpeq_epi32(x.d, y.d)));
    return _mm_movemask_epi8(eq) == 0xffff;
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

/* The set-up side: clear both rings and format 1's index words, then publish the session last. */
static void set_up(struct header *h, size_t size, const struct options *o) {
    store_release(&h->session, 0);
    h->magic = MAGIC;
    h->slots = slots_for(size);
    h->burst = o->burst;
    h->format = RING_FORMAT;
    h->format_session = o->session;
    h->checked = !o->unchecked;
    for (unsigned i = 0; i < sizeof h->format1_index / sizeof h->format1_index[0]; i++) h->format1_index[i] = 0;
    for (int r = 0; r < 2; r++) {
        h->ring[r].p.head = 0;
        h->ring[r].p.done = 0;
        h->ring[r].p.total = 0;
        h->ring[r].c.tail = 0;
    }
    store_release(&h->session, o->session);
}

static void other_format(const char *side, unsigned long long format) {
    fprintf(stderr, "nfvkit-ring: the %s side runs an nfvkit-ring of wire format %llu and this one format %d: both sides need the same build %s\n", side,
            format, RING_FORMAT,
            format < RING_FORMAT ? "(a guest image built before this ring; rebuild it and start the guests from the new image)"
                                 : "(this one is the older: rebuild it, or the guest image, from the kit's current source)");
    exit(2);
}

/* A format-1 producer publishes its head at offset 64, which format 2 clears and never writes. */
static void check_peer_format(const struct header *h, const char *side) {
    if (h->format1_index[0] != 0) other_format(side, 1);
}

static void await_set_up(struct header *h, const struct options *o, const char *side) {
    uint64_t deadline = now_ns() + (uint64_t)(o->wait * 1e9);
    unsigned spins = 0;
    while (load_acquire(&h->session) != o->session || h->magic != MAGIC) {
        if (now_ns() > deadline) {
            fprintf(stderr, "nfvkit-ring: the other side did not set up session %llu within %.0f s\n", (unsigned long long)o->session, o->wait);
            exit(2);
        }
        relax(&spins);
    }
    /* Format 1 wrote the session but neither of the format words. */
    if (h->format_session != o->session) other_format(side, 1);
    if (h->format != RING_FORMAT) other_format(side, h->format);
}

static int stop_now(const struct options *o, uint64_t sent, uint64_t started, uint64_t t) {
    if (o->count > 0) return sent >= o->count;
    return t - started >= (uint64_t)(o->seconds * 1e9);
}

static void print_common(const struct options *o, const struct header *h) {
    printf("{\"tool\":\"nfvkit-ring\",\"version\":\"%d\",\"role\":\"%s\",\"session\":%llu,\"burst\":%u,\"slots\":%llu,\"packetBytes\":%zu,"
           "\"cpu\":%d,\"fifo\":%d,\"checked\":%s",
           RING_FORMAT, o->mode, (unsigned long long)o->session, o->burst, (unsigned long long)h->slots, sizeof(struct packet), o->cpu, o->fifo,
           o->unchecked ? "false" : "true");
}

/* Sequence numbers as the producer sends them, with the test modes' faults. */
struct sender {
    uint64_t next;
    uint64_t drop, reorder, corrupt;
    int owed; /* the reordered packet is due in the next slot */
};

/* Whether the next n numbers are plain (next, next + 1, ...), with no fault among them. */
static int plain_run(const struct sender *s, uint64_t n) {
    if (s->owed) return 0;
    uint64_t end = s->next + n + 1;
    return !(s->drop >= s->next && s->drop < end) && !(s->reorder >= s->next && s->reorder < end) && !(s->corrupt >= s->next && s->corrupt < end);
}

/* A dropped number is never sent; a reordered one goes one slot after its successor. */
static uint64_t next_seq(struct sender *s) {
    if (s->owed) {
        s->owed = 0;
        return s->reorder;
    }
    if (s->next == s->drop) s->next++;
    if (s->next == s->reorder) {
        s->owed = 1;
        s->next += 2;
        return s->reorder + 1;
    }
    return s->next++;
}

static int produce(struct header *h, const struct options *o) {
    await_set_up(h, o, "consumer");
    if ((h->checked != 0) == (o->unchecked != 0)) {
        fprintf(stderr, "nfvkit-ring: the consumer runs %s and this producer %s: give --unchecked to both sides or to neither\n",
                h->checked ? "checked" : "--unchecked", o->unchecked ? "--unchecked" : "checked");
        exit(2);
    }
    struct ring_index *r = &h->ring[0];
    struct packet *slots = slots_of(h, 0);
    const uint64_t nslots = h->slots, mask = nslots - 1;
    uint64_t head = 0, tail = 0, clock_at = 0;
    uint64_t burst = o->burst < nslots ? o->burst : nslots;
    struct sender s = {.next = 0, .drop = o->drop, .reorder = o->reorder, .corrupt = o->corrupt};
    const struct lines_step step = packet_step();
    struct lines next = packet_for(0, 0);
    int walking = 0;
    uint64_t started = now_ns(), t = started, waiting_since = 0;
    unsigned spins = 0;
    while (!stop_now(o, head, started, t)) {
        uint64_t n = burst;
        if (o->count > 0 && o->count - head < n) n = o->count - head;
        /* The consumer's tail is read only when the copy from the last read says the ring is full. */
        if (head + n - tail > nslots) {
            for (;;) {
                tail = load_acquire(&r->c.tail);
                if (head + n - tail <= nslots) break;
                relax(&spins);
                if (spins % 65536 == 0) {
                    t = now_ns();
                    if (waiting_since == 0) waiting_since = t;
                    else if (t - waiting_since > 10000000000ull) die("the consumer took nothing for 10 s");
                }
            }
            waiting_since = 0;
        }
        if (o->unchecked) {
            /* The ceiling: the same four 16-byte stores per line, with nothing computed. */
            __m128i z = _mm_setzero_si128();
            for (uint64_t i = 0; i < n; i++) store_packet(&slots[(head + i) & mask], (struct lines){_mm_cvtsi64_si128((long long)(head + i)), z, z, z});
        } else if (plain_run(&s, n) && (uint32_t)s.next <= UINT32_MAX - n) {
            /* The usual case: n packets in a row, each the last one plus a constant. */
            if (!walking) next = packet_for(s.next, 0);
            walking = 1;
            for (uint64_t i = 0; i < n; i++) {
                store_packet(&slots[(head + i) & mask], next);
                next = next_packet(next, step);
            }
            s.next += n;
        } else {
            /* A fault to inject, or the low word of seq wrapping: each packet from scratch. */
            walking = 0;
            for (uint64_t i = 0; i < n; i++) {
                uint64_t seq = next_seq(&s);
                struct packet *p = &slots[(head + i) & mask];
                store_packet(p, packet_for(seq, 0));
                /* A corrupt packet has a flipped byte after its check word was computed. */
                if (seq == o->corrupt) ((volatile uint8_t *)p->payload)[5] ^= 0x5a;
            }
        }
        head += n;
        store_release(&r->p.head, head);
        if (o->count == 0 && head - clock_at >= CLOCK_EVERY) {
            t = now_ns();
            clock_at = head;
        }
    }
    t = now_ns();
    r->p.total = head;
    store_release(&r->p.done, o->session);
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
    /* Recent gaps [from, to): numbers counted lost that may still come, late. */
    unsigned gaps;
    struct {
        uint64_t from, to;
    } gap[MAX_GAPS];
};

static void note(struct events *ev, const char *kind, uint64_t seq) {
    if (ev->n < MAX_EVENTS) {
        ev->e[ev->n].kind = kind;
        ev->e[ev->n].seq = seq;
        ev->n++;
    }
}

/* A late packet that was counted lost is reordered, not lost: move it from one count (and event) to the other. */
static int found_late(struct events *ev, uint64_t seq) {
    for (unsigned g = 0; g < ev->gaps; g++) {
        if (seq < ev->gap[g].from || seq >= ev->gap[g].to) continue;
        if (seq == ev->gap[g].from) ev->gap[g].from++;
        else if (seq == ev->gap[g].to - 1) ev->gap[g].to--;
        else if (ev->gaps < MAX_GAPS) {
            ev->gap[ev->gaps].from = seq + 1;
            ev->gap[ev->gaps].to = ev->gap[g].to;
            ev->gap[g].to = seq;
            ev->gaps++;
        }
        ev->lost--;
        ev->reordered++;
        for (unsigned i = 0; i < ev->n; i++)
            if (ev->e[i].seq == seq && !strcmp(ev->e[i].kind, "lost")) {
                ev->e[i].kind = "reordered";
                return 1;
            }
        note(ev, "reordered", seq);
        return 1;
    }
    return 0;
}

/*
 * The slow path, for a packet that is not exactly the one expected: says
 * what is wrong with it and returns the next expected number. A packet
 * whose check word does not match its bytes is corrupt; one that matches
 * but carries a higher number means the ones between were lost; a lower
 * number is a reordered (late) or repeated packet.
 */
static uint64_t classify(const struct packet *p, uint64_t expected, struct events *ev) {
    struct lines l = load_packet(p);
    struct packet copy;
    store_packet(&copy, l);
    if (copy.check != check_of(&copy)) {
        ev->corrupt++;
        note(ev, "corrupt", copy.seq);
        return expected + 1;
    }
    if (!same_packet(l, packet_for(copy.seq, copy.stamp_ns))) {
        /* A check word that matches a wrong payload: written with the wrong number. */
        ev->corrupt++;
        note(ev, "corrupt", copy.seq);
        return expected + 1;
    }
    if (copy.seq > expected) {
        for (uint64_t s = expected; s < copy.seq && ev->n < MAX_EVENTS; s++) note(ev, "lost", s);
        ev->lost += copy.seq - expected;
        if (ev->gaps < MAX_GAPS) {
            ev->gap[ev->gaps].from = expected;
            ev->gap[ev->gaps].to = copy.seq;
            ev->gaps++;
        }
        return copy.seq + 1;
    }
    if (copy.seq < expected && !found_late(ev, copy.seq)) {
        ev->reordered++;
        note(ev, "reordered", copy.seq);
    }
    return copy.seq == expected ? expected + 1 : expected;
}

/*
 * Checks packets [from, to) of a ring: each is compared, all 64 bytes, with
 * *want, the packet for `expected`; returns the next expected number and
 * leaves *want at its packet.
 */
static uint64_t check_packets(const struct packet *slots, uint64_t mask, uint64_t from, uint64_t to, uint64_t expected, struct lines *want,
                              struct lines_step step, struct events *ev) {
    struct lines w = *want;
    for (uint64_t i = from; i < to; i++) {
        const struct packet *p = &slots[i & mask];
        if (__builtin_expect(same_packet(load_packet(p), w), 1)) {
            expected++;
            w = next_packet(w, step);
        } else {
            expected = classify(p, expected, ev);
            w = packet_for(expected, 0);
        }
    }
    *want = w;
    return expected;
}

/* The ceiling: every line read whole, nothing compared. The empty asm keeps the loads from being optimised away. */
static void read_packets(const struct packet *slots, uint64_t mask, uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; i++) {
        struct lines l = load_packet(&slots[i & mask]);
        __asm__ volatile("" : : "x"(l.a), "x"(l.b), "x"(l.c), "x"(l.d));
    }
}

static void print_events(const struct events *ev) {
    printf(",\"lost\":%llu,\"reordered\":%llu,\"corrupt\":%llu,\"events\":[", (unsigned long long)ev->lost, (unsigned long long)ev->reordered,
           (unsigned long long)ev->corrupt);
    for (unsigned i = 0; i < ev->n; i++) printf("%s{\"kind\":\"%s\",\"seq\":%llu}", i ? "," : "", ev->e[i].kind, (unsigned long long)ev->e[i].seq);
    printf("]");
}

/* The consumer's clock: read once per CLOCK_EVERY packets and after a timed wait, never per packet. */
struct timing {
    uint64_t first, last;         /* first and latest reading after an arrival */
    uint64_t counted;             /* packets counted into per_second so far */
    uint64_t max_gap, max_gap_at; /* longest timed wait between two arrivals, and when it began (after first) */
    unsigned seconds_used;
    uint64_t per_second[MAX_SECONDS];
};

/* A clock reading after packets up to `tail` arrived: they count into the second it falls in. */
static void stamp(struct timing *tm, uint64_t t, uint64_t tail) {
    if (tm->first == 0) tm->first = t;
    tm->last = t;
    uint64_t sec = (t - tm->first) / 1000000000ull;
    if (sec < MAX_SECONDS) {
        tm->per_second[sec] += tail - tm->counted;
        if (sec + 1 > tm->seconds_used) tm->seconds_used = (unsigned)sec + 1;
    }
    tm->counted = tail;
}

static int consume(struct header *h, size_t size, const struct options *o) {
    set_up(h, size, o);
    struct ring_index *r = &h->ring[0];
    const struct packet *slots = slots_of(h, 0);
    const uint64_t mask = h->slots - 1;
    uint64_t tail = 0, head = 0, expected = 0;
    static struct timing tm;
    struct events ev = {0};
    const struct lines_step step = packet_step();
    struct lines want = packet_for(0, 0);
    unsigned spins = 0, polls = 0;
    uint64_t waiting_since = now_ns(), wait_began = 0;
    for (;;) {
        if (tail == head) {
            /* The producer's head is read only when the copy from the last read says the ring is empty. */
            head = load_acquire(&r->p.head);
            if (head == tail) {
                if (load_acquire(&r->p.done) == o->session && tail == r->p.total) break;
                relax(&spins);
                if (++polls == TIMED_WAIT_POLLS && tm.first != 0) {
                    /* A wait long enough to time: it began about when the last packet was taken. */
                    wait_began = now_ns();
                    stamp(&tm, wait_began, tail);
                }
                if (spins % 4096 == 0) check_peer_format(h, "producer");
                if (spins % 65536 == 0) {
                    /* Before the first packet the producer may still be starting; after it, a pause this long is a stall. */
                    uint64_t t = now_ns(), limit = tm.first == 0 ? (uint64_t)(o->wait * 1e9) : 10000000000ull;
                    if (t - waiting_since > limit) die(tm.first == 0 ? "no packet arrived: the producer never started" : "the producer stalled for 10 s");
                }
                continue;
            }
        }
        uint64_t end = head - tail > CONSUME_CHUNK ? tail + CONSUME_CHUNK : head;
        if (o->unchecked) read_packets(slots, mask, tail, end);
        else expected = check_packets(slots, mask, tail, end, expected, &want, step, &ev);
        tail = end;
        store_release(&r->c.tail, tail);
        if (polls >= TIMED_WAIT_POLLS || tm.first == 0 || tail - tm.counted >= CLOCK_EVERY) {
            uint64_t t = now_ns();
            /* The longest wait between two arrivals: a producer stalled for N ms shows as a gap of N ms here. */
            if (wait_began != 0 && t - wait_began > tm.max_gap) {
                tm.max_gap = t - wait_began;
                tm.max_gap_at = wait_began - tm.first;
            }
            stamp(&tm, t, tail);
            waiting_since = t;
        }
        polls = 0;
        wait_began = 0;
    }
    stamp(&tm, tm.first == 0 ? now_ns() : (polls >= TIMED_WAIT_POLLS ? tm.last : now_ns()), tail);
    if (!o->unchecked && expected < r->p.total) {
        /* A loss at the very end shows as fewer packets than the producer published. */
        for (uint64_t s = expected; s < r->p.total && ev.n < MAX_EVENTS; s++) note(&ev, "lost", s);
        ev.lost += r->p.total - expected;
    }
    double secs = (double)(tm.last - tm.first) / 1e9;
    print_common(o, h);
    printf(",\"packets\":%llu,\"producerPackets\":%llu,\"seconds\":%.6f,\"mpps\":%.6f,\"nsPerPacket\":%.3f", (unsigned long long)tail,
           (unsigned long long)r->p.total, secs, secs > 0 ? (double)tail / secs / 1e6 : 0.0, tail > 0 ? (double)(tm.last - tm.first) / (double)tail : 0.0);
    /* Per-second samples: packets in each second after the first packet; the last one covers lastSecondNs. */
    printf(",\"perSecond\":[");
    for (unsigned i = 0; i < tm.seconds_used; i++) printf("%s%llu", i ? "," : "", (unsigned long long)tm.per_second[i]);
    printf("],\"lastSecondNs\":%llu",
           tm.seconds_used > 0 ? (unsigned long long)((tm.last - tm.first) - (uint64_t)(tm.seconds_used - 1) * 1000000000ull) : 0ull);
    printf(",\"maxGapNs\":%llu,\"maxGapAtNs\":%llu", (unsigned long long)tm.max_gap, (unsigned long long)tm.max_gap_at);
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
    await_set_up(h, o, "pong");
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
        store_packet(&tx[n & mask], packet_for(n, now_ns()));
        store_release(&out->p.head, n + 1);
        uint64_t sent_at = now_ns();
        while (load_acquire(&in->p.head) == n) {
            relax(&spins);
            if (spins % 65536 == 0 && now_ns() - sent_at > 10000000000ull) die("no reply for 10 s: the pong side stalled");
        }
        const struct packet *back = &rx[n & mask];
        t = now_ns();
        uint64_t stamp_ns = back->stamp_ns;
        if (!same_packet(load_packet(back), packet_for(n, stamp_ns))) classify(back, n, &ev);
        rtt[n] = t - stamp_ns;
        n++;
        store_release(&in->c.tail, n);
        store_release(&out->c.tail, n);
    }
    out->p.total = n;
    store_release(&out->p.done, o->session);
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
        if (load_acquire(&in->p.head) == n) {
            if (load_acquire(&in->p.done) == o->session && in->p.total == n) break;
            relax(&spins);
            if (spins % 4096 == 0) check_peer_format(h, "ping");
            if (spins % 65536 == 0 && now_ns() - waiting_since > (uint64_t)(o->wait * 1e9)) die("the ping side stopped sending");
            continue;
        }
        store_packet(&tx[n & mask], load_packet(&rx[n & mask])); /* echo as it came: ping checks it */
        n++;
        store_release(&out->p.head, n);
        waiting_since = now_ns();
    }
    print_common(o, h);
    printf(",\"roundTrips\":%llu}\n", (unsigned long long)n);
    return 0;
}

static void usage(void) {
    fprintf(stderr,
            "usage: nfvkit-ring consume|produce|ping|pong --file REGION[,REGION...] --session N [--tag T] [--burst 32] [--cpu C]\n"
            "                   [--fifo PRIO] [--seconds T | --count N] [--unchecked] [--drop SEQ] [--reorder SEQ] [--corrupt SEQ]\n"
            "                   [--wait SECONDS]\n"
            "       nfvkit-ring tag --file REGION --tag T\n"
            "       nfvkit-ring version\n");
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
    if (!strcmp(argv[1], "version")) {
        printf("{\"tool\":\"nfvkit-ring\",\"version\":\"%d\",\"role\":\"version\"}\n", RING_FORMAT);
        return 0;
    }
    struct options o = {
        .mode = argv[1], .burst = 32, .cpu = -1, .fifo = 0, .drop = UINT64_MAX, .reorder = UINT64_MAX, .corrupt = UINT64_MAX, .wait = 60};
    for (int i = 2; i < argc; i++) {
        const char *f = argv[i];
        if (!strcmp(f, "--unchecked")) {
            o.unchecked = 1;
            continue;
        }
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
        else if (!strcmp(f, "--reorder")) o.reorder = number(v, f);
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
    if (o.unchecked && strcmp(o.mode, "produce") && strcmp(o.mode, "consume")) die("--unchecked is for produce and consume");
    if (o.unchecked && (o.drop != UINT64_MAX || o.reorder != UINT64_MAX || o.corrupt != UINT64_MAX))
        die("--drop, --reorder and --corrupt test the checks: they need a checked run, not --unchecked");
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
