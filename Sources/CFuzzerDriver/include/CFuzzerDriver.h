#ifndef MARTLET_CFUZZERDRIVER_H
#define MARTLET_CFUZZERDRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver (LLVMFuzzerRunDriver) with `callback` as the fuzz target. Only present in builds
/// with -DMARTLET_FUZZING and -sanitize=fuzzer (`make fuzz`): SwiftPM gives every executable its own `main`,
/// so the fuzzer target's main calls the driver instead of linking libFuzzer's main.
int martlet_fuzzer_run(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
