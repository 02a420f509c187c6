"""mkregress.py DIR - writes small HDF5 files that crashed or hung eeprof inside libhdf5.

Run once; its files are committed in tests/fuzz/regress/ckpt and .../trace (with
trace-conv-sigbus.h5, the campaign's own 9 KB reproducer: a shifted base address).

The libFuzzer campaign of issue 13 found them as mutated 213 KB checkpoints (kept in
../shared/fuzz-repro/); each fault only needs the bytes it mutated, so these are the same
mutations applied to a checkpoint with no tensors (h5py writes its string attributes as
variable-length strings in a global heap collection, as export.py does):
  ckpt-h5hg-hang.h5      the collection's free-space object is too short: libhdf5 1.10.8
                         then parses zero-sized objects forever
  ckpt-dense-h5hg-hang.h5  the same in a file of 12 attributes written with libver
                         "latest": they are in dense storage, read by libhdf5 in a child
                         process (core/h5check.c), which is stopped after 1 s of CPU time
  ckpt-h5hg-overflow.h5  a string object claims 9984 bytes in a 4096-byte collection:
                         libhdf5 reads past its buffer (SIGSEGV)
  ckpt-vlen-oom.h5       the 'arch' string's character type claims 4278190081 bytes:
                         libhdf5 allocates and clears 16 GB for a 4-byte string
  ckpt-vlen-slow.h5      the same for 'dataset' with 268435457-byte characters (1.9 GB)
  trace-int-precision.h5 'trace_version' is an int32 of 0 bits of precision: libhdf5's
                         converter then reads outside the value (SIGBUS)
  ckpt-unwritten.h5      a tensor declared but never written (libhdf5 reads zeros)
  trace-attr-overflow.h5 the dataspace size of attribute 'checkpoint_sha256' is 1288 in
                         its 120-byte message (found by make fuzz-smoke: one byte of a
                         trace): libhdf5 copies the 65-byte value from past the object
                         header's buffer (heap-buffer-overflow READ under ASan) while
                         H5Aexists decodes every attribute of the root group
  trace-root-continuation.h5  the root group's continuation chunk claims 0x3a0000000002f8
                         bytes (found by fuzz_trace): H5Fopen asks malloc for them
                         (allocation-size-too-big under ASan; in a real run malloc fails)
"""
import os
import struct
import sys

import h5py
import numpy as np


def ckpt(path, written=True, libver=None, extra=0):
    with h5py.File(path, "w", libver=libver) as f:
        for i in range(extra):  # more than 8 attributes: libhdf5 stores them densely
            f.attrs["note%d" % i] = "x" * i
        f.attrs["format"] = "eeprof-checkpoint"
        f.attrs["format_version"] = 1
        f.attrs["arch"] = "scan"
        f.attrs["num_classes"] = 10
        f.attrs["input_shape"] = np.array([1, 32, 32], dtype=np.int64)
        f.attrs["mean"] = np.array([0.5])
        f.attrs["std"] = np.array([0.25])
        f.attrs["dataset"] = "fixture"
        g = f.create_group("state_dict")
        if written:
            g.create_dataset("conv1.weight", data=np.ones((4, 1, 3, 3), np.float32))
        else:
            g.create_dataset("conv1.weight", shape=(4, 1, 3, 3), dtype="f4")
    return bytearray(open(path, "rb").read())


def attr_type(b, name):
    """Offset of the datatype of compact attribute name (attribute message version 1)."""
    key = name.encode() + b"\0"
    at = b.index(key)
    # version 1 message: version, reserved, name size (2), datatype size (2), dataspace size (2)
    assert b[at - 8] == 1 and struct.unpack("<H", b[at - 6:at - 4])[0] == len(key)
    return at + (len(key) + 7) // 8 * 8


def heap_objects(b):
    """(offset of each object header, index, size) in the file's global heap collection."""
    at = b.index(b"GCOL")
    end = at + struct.unpack("<Q", b[at + 8:at + 16])[0]
    p, out = at + 16, []
    while end - p >= 16:
        idx, size = struct.unpack("<H", b[p:p + 2])[0], struct.unpack("<Q", b[p + 8:p + 16])[0]
        out.append((p, idx, size))
        p += 16 + (size + 7) // 8 * 8 if idx else size
    return out


def root_messages(b):
    """(type, offset of the body) of each message of the root group's first header chunk
    (superblock version 0, object header version 1)."""
    assert b[8] == 0
    at = struct.unpack("<Q", b[64:72])[0]  # root symbol table entry: its object header
    assert b[at] == 1
    end = at + 16 + struct.unpack("<I", b[at + 8:at + 12])[0]
    p, out = at + 16, []
    while p + 8 <= end:
        t, n = struct.unpack("<HH", b[p:p + 4])
        out.append((t, p + 8))
        p += 8 + n
    return out


def write(path, b):
    open(path, "wb").write(b)


def main(out):
    os.makedirs(out, exist_ok=True)
    j = lambda n: os.path.join(out, n)  # noqa: E731
    tmp = j("base.tmp")

    b = ckpt(tmp)
    p, idx, size = heap_objects(b)[-1]
    assert idx == 0
    b[p + 8:p + 16] = struct.pack("<Q", 120)
    write(j("ckpt-h5hg-hang.h5"), b)

    b = ckpt(tmp, libver="latest", extra=4)
    p, idx, size = heap_objects(b)[-1]
    b[p + 8:p + 16] = struct.pack("<Q", 120)
    write(j("ckpt-dense-h5hg-hang.h5"), b)

    b = ckpt(tmp)
    p, idx, size = heap_objects(b)[0]
    b[p + 8:p + 16] = struct.pack("<Q", 0x2700)
    write(j("ckpt-h5hg-overflow.h5"), b)

    for name, attr, size in (("ckpt-vlen-oom.h5", "arch", 0xFF000001),
                             ("ckpt-vlen-slow.h5", "dataset", 0x10000001)):
        b = ckpt(tmp)
        t = attr_type(b, attr)
        assert b[t] & 0x0F == 9 and b[t + 8] & 0x0F == 0  # vlen string of 1-byte integers
        b[t + 12:t + 16] = struct.pack("<I", size)
        write(j(name), b)

    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = np.bytes_("eeprof-trace")
        f.attrs["trace_version"] = np.int32(1)
    b = bytearray(open(tmp, "rb").read())
    t = attr_type(b, "trace_version")
    assert b[t] & 0x0F == 0 and struct.unpack("<H", b[t + 10:t + 12])[0] == 32
    b[t + 10:t + 12] = struct.pack("<H", 0)
    write(j("trace-int-precision.h5"), b)

    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = np.bytes_("eeprof-trace")
        f.attrs["trace_version"] = np.int32(1)
        f.attrs["checkpoint_sha256"] = np.bytes_("0" * 64)
    b = bytearray(open(tmp, "rb").read())
    m = attr_type(b, "checkpoint_sha256") - 8 - 24  # the message: header, then the name
    assert struct.unpack("<HHH", b[m + 2:m + 8]) == (18, 8, 8)
    b[m + 6:m + 8] = struct.pack("<H", 0x508)
    write(j("trace-attr-overflow.h5"), b)

    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = np.bytes_("eeprof-trace")
        f.attrs["trace_version"] = np.int32(1)
        for i in range(12):  # more than the first chunk holds: a continuation chunk
            f.attrs["note%d" % i] = np.bytes_("x" * 64)
    b = bytearray(open(tmp, "rb").read())
    cont = [at for t, at in root_messages(b) if t == 0x10]
    assert cont
    b[cont[0] + 8 + 6] = 0x3a  # the chunk's length, byte 6
    write(j("trace-root-continuation.h5"), b)

    ckpt(j("ckpt-unwritten.h5"), written=False)
    os.remove(tmp)


if __name__ == "__main__":
    main(sys.argv[1])
