"""same_trace.py WHOLE TRACE...: every per-sample dataset and root attribute of each TRACE
equals WHOLE's (the /timing group aside), and the traces have gates (a gated model)."""
import sys

import h5py

a = h5py.File(sys.argv[1])
names = []
a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and not n.startswith("timing") else None)
assert {"index", "pred", "maxprob", "macs", "gates/open"} <= set(names), names
assert any(n.startswith("gates/bits/") for n in names), names
for path in sys.argv[2:]:
    b = h5py.File(path)
    other = []
    b.visititems(lambda n, o: other.append(n) if isinstance(o, h5py.Dataset) and not n.startswith("timing") else None)
    assert sorted(names) == sorted(other), (path, "datasets differ")
    for n in names:
        x, y = a[n][...], b[n][...]
        assert x.dtype == y.dtype and x.shape == y.shape and (x == y).all(), (path, n)
    assert dict(a.attrs) == dict(b.attrs), (path, "attributes")
