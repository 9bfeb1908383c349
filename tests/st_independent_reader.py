#!/usr/bin/env python3
"""An independent safetensors reader for test_safetensors.c.

Parses a file with nothing but struct, json and numpy (no safetensors
package, no thermo code), following the format description at
https://github.com/huggingface/safetensors ("Format"), and prints one line per
tensor and one per metadata entry, which the C test compares with values it
computes itself:

    tensor <name> <dtype> <shape, comma separated or "-"> <count> <fsum> <first> <middle> <last>
    meta <key> <value>

Numbers are printed with repr(), which round-trips a double exactly; fsum is
the correctly rounded sum of the elements (math.fsum), so that the C side can
compare against its own sum without depending on the order of additions.
An empty tensor prints "nan" for its three elements. Exit status 77 means
numpy is missing (the C test then skips this check); any other nonzero
status means the file did not parse.
"""
import json
import math
import struct
import sys

try:
    import numpy as np
except ImportError:
    sys.stderr.write("numpy is not available\n")
    sys.exit(77)

DTYPES = {"F32": "<f4", "F64": "<f8"}


def main(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise SystemExit("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        raise SystemExit("header length beyond the file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    covered = 0
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            for key, value in entry.items():
                print("meta", key, value)
            continue
        begin, end = entry["data_offsets"]
        spans.append((begin, end))
        shape = [int(d) for d in entry["shape"]]
        a = np.frombuffer(data[begin:end], dtype=DTYPES[entry["dtype"]])
        count = int(np.prod(shape, dtype=np.int64))
        if a.size != count:
            raise SystemExit("tensor %s: %d elements, shape says %d" % (name, a.size, count))
        a = a.reshape(shape)
        flat = a.reshape(-1).astype(np.float64)
        if count:
            picks = [flat[0], flat[count // 2], flat[-1]]
        else:
            picks = [float("nan")] * 3
        print("tensor", name, entry["dtype"], ",".join(str(d) for d in shape) or "-", count,
              repr(math.fsum(flat.tolist())), *(repr(float(v)) for v in picks))
    for begin, end in sorted(spans):
        if begin != covered:
            raise SystemExit("data area not tiled at offset %d" % begin)
        covered = end
    if covered != len(data):
        raise SystemExit("trailing bytes in the data area")


if __name__ == "__main__":
    main(sys.argv[1])
