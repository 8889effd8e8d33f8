/*
 * What checking a packet costs a CPU, without the memory system: per-packet
 * integrity schemes for nfvkit-ring, each filling 64 packets into an
 * L1-resident buffer and verifying them, best of 7 runs of 2^24 packets.
 * docs/bench.md ("The inter-VM ring") records the figures.
 *
 *   gcc -O2 -I guest-images/ring -o /tmp/ring-check-cost tools/bench/ring-check-cost.c && taskset -c 1 /tmp/ring-check-cost
 *
 * fnv:    format 1: 15-step FNV-1a chain over the 60 bytes, payload compared
 * crc32c: SSE4.2 crc32 over the 60 bytes (a chain of 8, packets overlap), payload compared
 * madd:   16-bit words times distinct weights with pmaddwd (independent lanes), payload compared
 * walk:   format 2 (nfvkit-ring.c): the expected packet walked forward, all 64 bytes compared
 */
#define main ring_main
#include "nfvkit-ring.c"
#undef main
#include <nmmintrin.h>

#define BLOCK 64
#define RUNS 7
#define PACKETS (1u << 24)

static struct packet buf[BLOCK];

static inline uint32_t fnv(const struct packet *p) {
    const uint32_t *w = (const uint32_t *)p;
    uint32_t h = 2166136261u;
    for (int i = 0; i < 15; i++) h = (h ^ w[i]) * 16777619u;
    return h;
}

__attribute__((target("sse4.2"))) static inline uint32_t crc(const struct packet *p) {
    const uint64_t *q = (const uint64_t *)p;
    uint64_t c = 0xffffffffu;
    for (int i = 0; i < 7; i++) c = _mm_crc32_u64(c, q[i]);
    return _mm_crc32_u32((uint32_t)c, ((const uint32_t *)p)[14]);
}

#define WT(j) ((short)(2 * (((j) + 1) * 4967 % 16383) + 1))
#define WV(k) _mm_setr_epi16(WT(8 * k), WT(8 * k + 1), WT(8 * k + 2), WT(8 * k + 3), WT(8 * k + 4), WT(8 * k + 5), WT(8 * k + 6), WT(8 * k + 7))
static inline uint32_t madd(const struct packet *p) {
    const __m128i *v = (const __m128i *)p;
    const __m128i w3 = _mm_setr_epi16(WT(24), WT(25), WT(26), WT(27), WT(28), WT(29), 0, 0);
    __m128i s = _mm_add_epi32(_mm_add_epi32(_mm_madd_epi16(_mm_load_si128(v), WV(0)), _mm_madd_epi16(_mm_load_si128(v + 1), WV(1))),
                              _mm_add_epi32(_mm_madd_epi16(_mm_load_si128(v + 2), WV(2)), _mm_madd_epi16(_mm_load_si128(v + 3), w3)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return (uint32_t)_mm_cvtsi128_si32(s);
}

/* The payload of seq as three vectors (the last one's fourth word 0), as both sides build it with SSE2. */
static inline struct lines payload_of(uint64_t seq) {
    const __m128i base = _mm_set1_epi32((int)((uint32_t)seq * PAYLOAD_STEP));
    struct lines l = {_mm_set_epi64x(0, (long long)seq), _mm_add_epi32(base, _mm_setr_epi32(0, 1, 2, 3)), _mm_add_epi32(base, _mm_setr_epi32(4, 5, 6, 7)),
                      _mm_and_si128(_mm_add_epi32(base, _mm_setr_epi32(8, 9, 10, 0)), _mm_setr_epi32(-1, -1, -1, 0))};
    return l;
}

/* Fills and verifies with a checksum: payload built and compared with vectors, the checksum computed on both sides. */
static inline __attribute__((always_inline)) uint64_t with_sum(uint32_t (*sum)(const struct packet *)) {
    const __m128i low3 = _mm_setr_epi32(-1, -1, -1, 0);
    uint64_t bad = 0;
    for (uint64_t base = 0; base < PACKETS; base += BLOCK) {
        for (unsigned i = 0; i < BLOCK; i++) {
            store_packet(&buf[i], payload_of(base + i));
            buf[i].check = sum(&buf[i]);
        }
        __asm__ volatile("" : : : "memory");
        for (unsigned i = 0; i < BLOCK; i++) {
            const struct packet *p = &buf[i];
            struct lines got = load_packet(p), want = payload_of(p->seq);
            got.d = _mm_and_si128(got.d, low3);
            bad += !(p->check == sum(p) && p->seq == base + i && same_packet(got, want));
        }
    }
    return bad;
}

static uint64_t fnv_run(void) { return with_sum(fnv); }
static uint64_t crc_run(void) { return with_sum(crc); }
static uint64_t madd_run(void) { return with_sum(madd); }

static uint64_t walk_run(void) {
    struct events ev = {0};
    const struct lines_step step = packet_step();
    struct lines next = packet_for(0, 0), want = packet_for(0, 0);
    uint64_t expected = 0;
    for (uint64_t base = 0; base < PACKETS; base += BLOCK) {
        for (unsigned i = 0; i < BLOCK; i++) {
            store_packet(&buf[i], next);
            next = next_packet(next, step);
        }
        __asm__ volatile("" : : : "memory");
        expected = check_packets(buf, BLOCK - 1, base, base + BLOCK, expected, &want, step, &ev);
    }
    return ev.lost + ev.reordered + ev.corrupt;
}

int main(void) {
    struct {
        const char *name;
        uint64_t (*run)(void);
    } schemes[] = {{"fnv", fnv_run}, {"crc32c", crc_run}, {"madd", madd_run}, {"walk", walk_run}};
    __builtin_cpu_init();
    for (unsigned s = 0; s < sizeof schemes / sizeof schemes[0]; s++) {
        if (s == 1 && !__builtin_cpu_supports("sse4.2")) continue;
        double best = 1e30;
        uint64_t bad = 0;
        for (int r = 0; r < RUNS; r++) {
            uint64_t t0 = now_ns();
            bad += schemes[s].run();
            double ns = (double)(now_ns() - t0) / PACKETS;
            if (ns < best) best = ns;
        }
        printf("%-7s %6.2f ns a packet, fill and check (best of %d runs of %u packets)%s\n", schemes[s].name, best, RUNS, PACKETS, bad ? ", BAD PACKETS" : "");
    }
    return 0;
}
