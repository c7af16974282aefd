#ifndef MARTLET_CCOMPRESSIONLIBS_SHIM_H
#define MARTLET_CCOMPRESSIONLIBS_SHIM_H

// gzip (codec 1): deflate/inflate with the gzip wrapper.
#include <zlib.h>
// snappy (codec 2): raw blocks; the xerial framing is done in Swift.
#include <snappy-c.h>
// lz4 (codec 3): the LZ4 frame format.
#include <lz4frame.h>
// zstd (codec 4).
#include <zstd.h>

#endif
