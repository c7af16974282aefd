// CRC-32C (Castagnoli) for Kafka record batches (v2 batches are checksummed over [21, end)).
//
// Three implementations behind one entry point, chosen once at run time:
//  * x86-64 with SSE 4.2: the crc32 instruction, 8 bytes at a time. The instruction has a latency of
//    3 cycles but a throughput of 1 a cycle, so large inputs are cut into three adjacent blocks whose
//    CRCs run as three independent dependency chains, then are joined with "shift by N zero bytes"
//    tables (linearity of CRCs; the method of Mark Adler's crc32c.c, no PCLMUL needed).
//  * AArch64 with the CRC extension: the same scheme with __crc32cd / __crc32cb.
//  * everywhere else: table-driven slicing-by-8.
// The file compiles without -msse4.2 / -march flags: the hardware code carries a target attribute and
// is only called after the CPU has been checked.

#include "CCRC32C.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#  include <nmmintrin.h>
#  define MARTLET_HW_TARGET __attribute__((target("sse4.2")))
#  define MARTLET_HAVE_HW 1
#elif defined(__aarch64__)
#  include <arm_acle.h>
#  if defined(__ARM_FEATURE_CRC32)
#    define MARTLET_HW_TARGET            /* the baseline already has the CRC extension (e.g. Apple) */
#  elif defined(__clang__)
#    define MARTLET_HW_TARGET __attribute__((target("crc")))
#  else
#    define MARTLET_HW_TARGET __attribute__((target("+crc")))
#  endif
#  if !defined(__ARM_FEATURE_CRC32) && defined(__linux__)
#    include <sys/auxv.h>
#    ifndef HWCAP_CRC32
#      define HWCAP_CRC32 (1 << 7)
#    endif
#  endif
#  define MARTLET_HAVE_HW 1
#else
#  define MARTLET_HAVE_HW 0
#endif

#define POLY 0x82f63b78u /* CRC-32C polynomial, bit-reflected */

// ---------------------------------------------------------------------------------------------------
// Tables, built once.

static uint32_t crc_table[8][256];  /* crc_table[k][b]: CRC of byte b followed by k zero bytes */
static int use_hardware;

#if MARTLET_HAVE_HW
/* Block sizes of the 3-way interleave; powers of two (the zero operators below require it). */
#  define LONG_BLOCK 8192
#  define SHORT_BLOCK 256
/* zeros_long[i][b] = (b << 8i) shifted through LONG_BLOCK zero bytes; likewise zeros_short. */
static uint32_t zeros_long[4][256];
static uint32_t zeros_short[4][256];

/* GF(2) matrix (32 columns) times vector. */
static uint32_t gf2_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    for (; vec; vec >>= 1, mat++)
        if (vec & 1) sum ^= *mat;
    return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat) {
    for (int n = 0; n < 32; n++) square[n] = gf2_times(mat, mat[n]);
}

/* The operator that feeds `len` zero bytes (a power of two) through a raw CRC register. */
static void zeros_operator(uint32_t *even, size_t len) {
    uint32_t odd[32];
    odd[0] = POLY; /* one zero bit */
    for (int n = 1; n < 32; n++) odd[n] = 1u << (n - 1);
    gf2_square(even, odd); /* two zero bits */
    gf2_square(odd, even); /* four zero bits */
    /* Each square doubles the count: 1 byte, 2 bytes, 4 bytes... until len is used up. */
    for (;;) {
        gf2_square(even, odd);
        len >>= 1;
        if (len == 0) return;
        gf2_square(odd, even);
        len >>= 1;
        if (len == 0) break;
    }
    memcpy(even, odd, sizeof odd);
}

static void zeros_tables(uint32_t zeros[4][256], size_t len) {
    uint32_t op[32];
    zeros_operator(op, len);
    for (uint32_t b = 0; b < 256; b++)
        for (int i = 0; i < 4; i++) zeros[i][b] = gf2_times(op, b << (8 * i));
}

/* The raw CRC register `crc` after that many zero bytes. */
static inline uint32_t shift_crc(uint32_t zeros[4][256], uint32_t crc) {
    return zeros[0][crc & 0xff] ^ zeros[1][(crc >> 8) & 0xff] ^ zeros[2][(crc >> 16) & 0xff] ^
           zeros[3][crc >> 24];
}

static int cpu_has_crc_instruction(void) {
#  if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
#  elif defined(__ARM_FEATURE_CRC32)
    return 1;
#  elif defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#  else
    return 0;
#  endif
}
#endif /* MARTLET_HAVE_HW */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_tables(void) {
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t crc = b;
        for (int k = 0; k < 8; k++) crc = (crc & 1) ? (crc >> 1) ^ POLY : crc >> 1;
        crc_table[0][b] = crc;
    }
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t crc = crc_table[0][b];
        for (int k = 1; k < 8; k++) {
            crc = crc_table[0][crc & 0xff] ^ (crc >> 8);
            crc_table[k][b] = crc;
        }
    }
#if MARTLET_HAVE_HW
    zeros_tables(zeros_long, LONG_BLOCK);
    zeros_tables(zeros_short, SHORT_BLOCK);
    use_hardware = cpu_has_crc_instruction();
#endif
}

static inline uint64_t load_le64(const unsigned char *p) {
    uint64_t word;
    memcpy(&word, p, 8); /* unaligned-safe; a single load on x86-64 and AArch64 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    word = __builtin_bswap64(word);
#endif
    return word;
}

// ---------------------------------------------------------------------------------------------------
// Portable: slicing-by-8.

static uint32_t crc32c_portable(uint32_t crc, const unsigned char *p, size_t len) {
    uint32_t c = ~crc;
    while (len && ((uintptr_t)p & 7)) {
        c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
        len--;
    }
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w = load_le64(p) ^ c;
        c = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^ crc_table[5][(w >> 16) & 0xff] ^
            crc_table[4][(w >> 24) & 0xff] ^ crc_table[3][(w >> 32) & 0xff] ^
            crc_table[2][(w >> 40) & 0xff] ^ crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
    }
    while (len--) c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

// ---------------------------------------------------------------------------------------------------
// Hardware: one body for both architectures, over two per-architecture primitives.

#if MARTLET_HAVE_HW
#  if defined(__x86_64__) || defined(_M_X64)
MARTLET_HW_TARGET static inline uint32_t hw_u64(uint32_t c, uint64_t w) {
    return (uint32_t)_mm_crc32_u64(c, w);
}
MARTLET_HW_TARGET static inline uint32_t hw_u8(uint32_t c, uint8_t b) { return _mm_crc32_u8(c, b); }
#  else
MARTLET_HW_TARGET static inline uint32_t hw_u64(uint32_t c, uint64_t w) { return __crc32cd(c, w); }
MARTLET_HW_TARGET static inline uint32_t hw_u8(uint32_t c, uint8_t b) { return __crc32cb(c, b); }
#  endif

/* Three blocks of `block` bytes as three independent chains, joined by shifting through zero bytes:
   crc(A|B|C) = shift(shift(crc(A)) ^ raw(B)) ^ raw(C), where raw() starts from a zero register. */
MARTLET_HW_TARGET static inline uint32_t hw_three_blocks(uint32_t c0, const unsigned char *p, size_t block,
                                                         uint32_t zeros[4][256]) {
    uint32_t c1 = 0, c2 = 0;
    for (const unsigned char *end = p + block; p < end; p += 8) {
        c0 = hw_u64(c0, load_le64(p));
        c1 = hw_u64(c1, load_le64(p + block));
        c2 = hw_u64(c2, load_le64(p + 2 * block));
    }
    c0 = shift_crc(zeros, c0) ^ c1;
    return shift_crc(zeros, c0) ^ c2;
}

MARTLET_HW_TARGET static uint32_t crc32c_hardware(uint32_t crc, const unsigned char *p, size_t len) {
    uint32_t c = ~crc;
    while (len && ((uintptr_t)p & 7)) { /* align to 8 */
        c = hw_u8(c, *p++);
        len--;
    }
    for (; len >= 3 * LONG_BLOCK; p += 3 * LONG_BLOCK, len -= 3 * LONG_BLOCK)
        c = hw_three_blocks(c, p, LONG_BLOCK, zeros_long);
    for (; len >= 3 * SHORT_BLOCK; p += 3 * SHORT_BLOCK, len -= 3 * SHORT_BLOCK)
        c = hw_three_blocks(c, p, SHORT_BLOCK, zeros_short);
    for (; len >= 8; p += 8, len -= 8) c = hw_u64(c, load_le64(p));
    while (len--) c = hw_u8(c, *p++);
    return ~c;
}
#endif /* MARTLET_HAVE_HW */

// ---------------------------------------------------------------------------------------------------
// Public entry points.

uint32_t martlet_crc32c(uint32_t crc, const void *data, size_t length) {
    pthread_once(&init_once, init_tables);
#if MARTLET_HAVE_HW
    if (use_hardware) return crc32c_hardware(crc, (const unsigned char *)data, length);
#endif
    return crc32c_portable(crc, (const unsigned char *)data, length);
}

uint32_t martlet_crc32c_portable(uint32_t crc, const void *data, size_t length) {
    pthread_once(&init_once, init_tables);
    return crc32c_portable(crc, (const unsigned char *)data, length);
}

int martlet_crc32c_uses_hardware(void) {
    pthread_once(&init_once, init_tables);
    return use_hardware;
}
