#ifndef MARTLET_CCRC32C_H
#define MARTLET_CCRC32C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78) of `length` bytes at `data`.
/// Standard semantics: pass crc = 0 for a fresh checksum; pass a previous result to continue it, so
/// martlet_crc32c(martlet_crc32c(0, a, n), b, m) equals the CRC of a followed by b.
/// Uses the CPU's CRC instruction (SSE 4.2 or ARMv8 CRC) when present, else martlet_crc32c_portable.
uint32_t martlet_crc32c(uint32_t crc, const void *data, size_t length);

/// The same function computed with portable slicing-by-8 tables (never the CRC instruction).
uint32_t martlet_crc32c_portable(uint32_t crc, const void *data, size_t length);

/// 1 if martlet_crc32c uses the CPU's CRC instruction on this machine, 0 if it uses the portable code.
int martlet_crc32c_uses_hardware(void);

#ifdef __cplusplus
}
#endif

#endif
