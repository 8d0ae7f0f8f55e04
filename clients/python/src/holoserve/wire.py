"""Wire arrays (docs/PROTOCOL.md, "Arrays"): msgpack bins of little-endian float32 (vectors),
float64 (Sinkhorn, heat) and uint32 (graph edges). Packing takes numpy arrays or any sequence of
numbers; unpacking returns numpy arrays (numpy is imported on first use)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgpack  # type: ignore[import]  # no stubs in Debian's python3-msgpack

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def _bytes(x: Any, dtype: str) -> bytes:
    import numpy as np
    return np.ascontiguousarray(x, dtype=dtype).tobytes()


def f32(x: Any) -> bytes:
    """array → bin of little-endian float32 (an HRR vector)."""
    return _bytes(x, '<f4')


def f64(x: Any) -> bytes:
    """array → bin of little-endian float64 (Sinkhorn, heat)."""
    return _bytes(x, '<f8')


def u32(x: Any) -> bytes:
    """array → bin of little-endian uint32 (graph edge indices)."""
    return _bytes(x, '<u4')


def from_f32(b: bytes) -> npt.NDArray[np.float32]:
    import numpy as np
    return np.frombuffer(b, dtype='<f4').astype(np.float32)


def from_f64(b: bytes) -> npt.NDArray[np.float64]:
    import numpy as np
    return np.frombuffer(b, dtype='<f8').astype(np.float64)


def from_u32(b: bytes) -> npt.NDArray[np.uint32]:
    import numpy as np
    return np.frombuffer(b, dtype='<u4').astype(np.uint32)


def pack(obj: Any) -> bytes:
    """msgpack with str as str and bytes as bin; no extension types."""
    out: bytes = msgpack.packb(obj, use_bin_type=True)
    return out


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, raw=False)
