"""The Array: a mutable handle on an immutable graph node.

Operations on Arrays never compute; they build nodes. The value is computed at a
materialization point (``np.asarray``, ``bool``, ``float``, ``repr``, ...) and kept
on the node, so an array computes at most once.

In-place operators (``a += 1``) rebind the handle to a new node, so every name
bound to the same Array object sees the change, as with NumPy.
"""

from __future__ import annotations

import builtins
import operator
from typing import Any

import numpy as np

from . import _dtypes
from ._devices import CPU, Device
from ._errors import CONVERSION_HINT, TracerConversionError, located

_API_VERSIONS = ("2021.12", "2022.12", "2023.12", "2024.12", "2025.12", None)


class Array:
    """A lazy n-dimensional array. Build one with ``xp.asarray`` or any namespace function.

    >>> import lazyarr as xp
    >>> a = xp.asarray([1.0, 2.0, 3.0])
    >>> b = xp.exp(a) + a ** 10     # a graph; nothing computed yet
    >>> b.shape, b.dtype
    ((3,), dtype('float64'))
    """

    __slots__ = ("__weakref__", "_node")
    __hash__ = None  # like NumPy arrays: == is elementwise, so arrays are not hashable
    # NOTE: makes NumPy defer to our reflected operators (``np_array + lazy``).
    __array_priority__ = 1000

    def __init__(self, *args, **kwargs):
        raise TypeError("Arrays are not constructed directly; use lazyarr.asarray(...)")

    @classmethod
    def _new(cls, node) -> Array:
        a = object.__new__(cls)
        a._node = node
        return a

    # ------------------------------------------------------------------ attributes
    @property
    def dtype(self) -> np.dtype:
        return self._node.dtype

    @property
    def shape(self) -> tuple[int | None, ...]:
        """The dimensions; ``None`` where inside ``xp.jit`` a size depends on array values."""
        return self._node.shape

    @property
    def ndim(self) -> int:
        return len(self._node.shape)

    @property
    def size(self) -> int | None:
        """The number of elements; ``None`` where a dimension is unknown (see ``shape``)."""
        return self._node.size

    @property
    def device(self) -> Device:
        return CPU

    @property
    def T(self) -> Array:  # noqa: N802 - the standard's name
        return _manip.permute_dims(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Array:  # noqa: N802
        return _linalg.matrix_transpose(self)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        if self.shape[0] is None:
            from ._builder import unknown_dimension

            raise unknown_dimension("len()")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        if self.shape[0] is None:
            from ._builder import unknown_dimension

            raise unknown_dimension("iteration")
        return (self[i] for i in range(self.shape[0]))

    def astype(self, dtype: Any, /, *, copy: builtins.bool = True, device: Any = None) -> Array:
        return _dtf.astype(self, dtype, copy=copy, device=device)

    def to_device(self, device: Any, /, *, stream: Any = None) -> Array:
        if device != CPU and device not in ("cpu", None):
            raise located(ValueError, f"unsupported device {device!r}; available: {CPU}")
        return self

    def __array_namespace__(self, /, *, api_version: str | None = None):
        if api_version not in _API_VERSIONS:
            raise ValueError(f"unsupported array API version {api_version!r}")
        import lazyarr

        return lazyarr

    # ------------------------------------------------------------------ materialization
    def _value(self) -> np.ndarray:
        """The computed value (read-only), computing it if needed."""
        value = self._node.value
        if value is None:
            try:
                value = materialize((self._node,))[0]
            except TracerConversionError:
                raise located(TracerConversionError, CONVERSION_HINT) from None
        return value

    def __array__(self, dtype: Any = None, copy: builtins.bool | None = None) -> np.ndarray:
        value = self._value()
        if dtype is not None and value.dtype != dtype:
            if copy is False:
                raise ValueError("converting the dtype requires a copy")
            return value.astype(dtype)
        return value.copy() if copy else value

    def __bool__(self) -> builtins.bool:
        return builtins.bool(self._value())

    def __int__(self) -> int:
        return int(self._value())

    def __float__(self) -> float:
        return float(self._value())

    def __complex__(self) -> complex:
        return complex(self._value())

    def __index__(self) -> int:
        return operator.index(self._value())

    def __repr__(self) -> str:
        try:
            value = self._value()
        except TracerConversionError:
            return f"Array(<traced>, shape={self.shape}, dtype={self.dtype})"
        body = np.array2string(value, separator=", ", prefix="Array(")
        return f"Array({body}, dtype={value.dtype})"

    def __str__(self) -> str:
        try:
            return str(self._value())
        except TracerConversionError:
            return repr(self)

    def __dlpack__(
        self,
        /,
        *,
        stream: Any = None,
        max_version: Any = None,
        dl_device: Any = None,
        copy: builtins.bool | None = None,
    ):
        value = self._value()
        kwargs = {"max_version": max_version, "dl_device": dl_device, "copy": copy}
        try:
            return value.__dlpack__(stream=stream, **kwargs)
        except BufferError:
            # NOTE: the legacy protocol cannot mark our read-only buffers; export a copy.
            if copy is False:
                raise
            return value.copy().__dlpack__(stream=stream, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return (1, 0)  # kDLCPU, device 0

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any):
        """``np.exp(lazy)`` stays lazy; other ufunc uses compute through NumPy."""
        if method == "__call__" and not kwargs:
            name = _UFUNC_NAMES.get(ufunc)
            if name is not None:
                return _builder.elementwise(name, *inputs)
            if ufunc is np.matmul:
                return _linalg.matmul(*inputs)
            if ufunc is np.vecdot:
                return _linalg.vecdot(*inputs)
        args = [np.asarray(x) if isinstance(x, Array) else x for x in inputs]
        return getattr(ufunc, method)(*args, **kwargs)

    # ------------------------------------------------------------------ indexing
    def __getitem__(self, key: Any, /) -> Array:
        return _indexing.getitem(self, key)

    def __setitem__(self, key: Any, value: Any, /) -> None:
        _indexing.setitem(self, key, _narrowed(value, self.dtype))

    # ------------------------------------------------------------------ operators
    def __neg__(self) -> Array:
        return _builder.elementwise("negative", self)

    def __pos__(self) -> Array:
        return _builder.elementwise("positive", self)

    def __abs__(self) -> Array:
        return _builder.elementwise("abs", self)

    def __invert__(self) -> Array:
        return _builder.elementwise("bitwise_invert", self)

    def __matmul__(self, other: Any, /) -> Array:
        if not isinstance(other, (Array, np.ndarray, list, tuple)):
            return NotImplemented
        return _linalg.matmul(self, _operand(other))

    def __rmatmul__(self, other: Any, /) -> Array:
        if not isinstance(other, (Array, np.ndarray, list, tuple)):
            return NotImplemented
        return _linalg.matmul(_operand(other), self)

    def __imatmul__(self, other: Any, /) -> Array:
        return self._rebind(self.__matmul__(other), "@=")

    def _iop(self, name: str, other: Any, symbol: str) -> Array:
        return self._rebind(_forward(name, self, other), symbol)

    def __add__(self, other: Any, /) -> Array:
        return _forward("add", self, other)

    def __radd__(self, other: Any, /) -> Array:
        return _reflected("add", self, other)

    def __iadd__(self, other: Any, /) -> Array:
        return self._iop("add", other, "+=")

    def __sub__(self, other: Any, /) -> Array:
        return _forward("subtract", self, other)

    def __rsub__(self, other: Any, /) -> Array:
        return _reflected("subtract", self, other)

    def __isub__(self, other: Any, /) -> Array:
        return self._iop("subtract", other, "-=")

    def __mul__(self, other: Any, /) -> Array:
        return _forward("multiply", self, other)

    def __rmul__(self, other: Any, /) -> Array:
        return _reflected("multiply", self, other)

    def __imul__(self, other: Any, /) -> Array:
        return self._iop("multiply", other, "*=")

    def __truediv__(self, other: Any, /) -> Array:
        return _forward("divide", self, other)

    def __rtruediv__(self, other: Any, /) -> Array:
        return _reflected("divide", self, other)

    def __itruediv__(self, other: Any, /) -> Array:
        return self._iop("divide", other, "/=")

    def __floordiv__(self, other: Any, /) -> Array:
        return _forward("floor_divide", self, other)

    def __rfloordiv__(self, other: Any, /) -> Array:
        return _reflected("floor_divide", self, other)

    def __ifloordiv__(self, other: Any, /) -> Array:
        return self._iop("floor_divide", other, "//=")

    def __mod__(self, other: Any, /) -> Array:
        return _forward("remainder", self, other)

    def __rmod__(self, other: Any, /) -> Array:
        return _reflected("remainder", self, other)

    def __imod__(self, other: Any, /) -> Array:
        return self._iop("remainder", other, "%=")

    def __pow__(self, other: Any, /) -> Array:
        return _forward("pow", self, other)

    def __rpow__(self, other: Any, /) -> Array:
        return _reflected("pow", self, other)

    def __ipow__(self, other: Any, /) -> Array:
        return self._iop("pow", other, "**=")

    def __and__(self, other: Any, /) -> Array:
        return _forward("bitwise_and", self, other)

    def __rand__(self, other: Any, /) -> Array:
        return _reflected("bitwise_and", self, other)

    def __iand__(self, other: Any, /) -> Array:
        return self._iop("bitwise_and", other, "&=")

    def __or__(self, other: Any, /) -> Array:
        return _forward("bitwise_or", self, other)

    def __ror__(self, other: Any, /) -> Array:
        return _reflected("bitwise_or", self, other)

    def __ior__(self, other: Any, /) -> Array:
        return self._iop("bitwise_or", other, "|=")

    def __xor__(self, other: Any, /) -> Array:
        return _forward("bitwise_xor", self, other)

    def __rxor__(self, other: Any, /) -> Array:
        return _reflected("bitwise_xor", self, other)

    def __ixor__(self, other: Any, /) -> Array:
        return self._iop("bitwise_xor", other, "^=")

    def __lshift__(self, other: Any, /) -> Array:
        return _forward("bitwise_left_shift", self, other)

    def __rlshift__(self, other: Any, /) -> Array:
        return _reflected("bitwise_left_shift", self, other)

    def __ilshift__(self, other: Any, /) -> Array:
        return self._iop("bitwise_left_shift", other, "<<=")

    def __rshift__(self, other: Any, /) -> Array:
        return _forward("bitwise_right_shift", self, other)

    def __rrshift__(self, other: Any, /) -> Array:
        return _reflected("bitwise_right_shift", self, other)

    def __irshift__(self, other: Any, /) -> Array:
        return self._iop("bitwise_right_shift", other, ">>=")

    def __eq__(self, other: Any, /) -> Array:  # type: ignore[override]
        return _forward("equal", self, other)

    def __ne__(self, other: Any, /) -> Array:  # type: ignore[override]
        return _forward("not_equal", self, other)

    def __lt__(self, other: Any, /) -> Array:  # type: ignore[override]
        return _forward("less", self, other)

    def __le__(self, other: Any, /) -> Array:  # type: ignore[override]
        return _forward("less_equal", self, other)

    def __gt__(self, other: Any, /) -> Array:  # type: ignore[override]
        return _forward("greater", self, other)

    def __ge__(self, other: Any, /) -> Array:  # type: ignore[override]
        return _forward("greater_equal", self, other)

    def _rebind(self, result: Array, symbol: str) -> Array:
        """``self`` bound to ``result``, cast back to ``self``'s dtype where NumPy's in-place
        operators would (``float32 += float64``); a change of kind or shape is an error."""
        if result is NotImplemented:
            return result
        kind_changes = not _same_kind(result.dtype, self.dtype)
        if kind_changes or result.shape != self.shape:
            raise located(
                TypeError if kind_changes else ValueError,
                f"in-place {symbol} would change the array from {self.shape} "
                f"{self.dtype} to {result.shape} {result.dtype}",
            )
        self._node = _builder.cast(result._node, self.dtype)
        return self


_OPERAND_TYPES = (Array, builtins.bool, int, float, complex, np.ndarray, np.generic, list, tuple)


def _forward(name: str, x: Array, other: Any) -> Array:
    """``x <op> other`` (operators are the hot path of eager code)."""
    if type(other) is Array:
        return _elementwise(name, x, other)
    if not isinstance(other, _OPERAND_TYPES):
        return NotImplemented
    return _elementwise(name, x, _operand(other))


def _reflected(name: str, x: Array, other: Any) -> Array:
    """``other <op> x``."""
    if not isinstance(other, _OPERAND_TYPES):
        return NotImplemented
    return _elementwise(name, _operand(other), x)


def _same_kind(source: np.dtype, target: np.dtype) -> builtins.bool:
    """Whether ``source`` casts to ``target`` under NumPy's ``same_kind`` rule: to a
    wider or a narrower dtype of the same kind (``float64`` to ``float32``, ``int64`` to
    ``int8``), or to one that holds all its values; never float to int, complex to real."""
    return builtins.bool(np.can_cast(source, target, "same_kind"))


def _narrowed(value: Any, dtype: np.dtype) -> Any:
    """The value of ``x[key] = value``, cast to ``x``'s dtype when it is an array of the
    same kind but wider, as NumPy (and JAX's ``.at[].set``, and PyTorch) cast: library
    code writes ``x32[i] = xp.minimum(x32[i], y64)``. Any other value is left for
    ``setitem`` to promote or refuse (``int_array[0] = float_array`` is a TypeError)."""
    if isinstance(value, (Array, np.ndarray, np.generic)) and value.dtype != dtype:
        source = value.dtype
        if (
            _dtypes.is_supported(source)
            and _same_kind(source, dtype)
            and not np.can_cast(source, dtype, "safe")
        ):
            return Array._new(_builder.cast(_builder.node_of(value), dtype))
    return value


def _operand(x: Any) -> Any:
    """Python sequences become arrays, as NumPy treats them; scalars stay weak."""
    if type(x) is list or type(x) is tuple:
        return _creation.asarray(x)
    return x


from . import _builder  # noqa: E402 - the namespace modules build on Array
from . import _creation_functions as _creation  # noqa: E402
from . import _data_type_functions as _dtf  # noqa: E402
from . import _indexing_functions as _indexing  # noqa: E402
from . import _linear_algebra_functions as _linalg  # noqa: E402
from . import _manipulation_functions as _manip  # noqa: E402
from ._ops import _UFUNCS  # noqa: E402
from .compile.eager import materialize  # noqa: E402

_UFUNC_NAMES = {u: name for name, u in _UFUNCS.items()}
_elementwise = _builder.elementwise
