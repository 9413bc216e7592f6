"""``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``.

Each differentiated argument is replaced, while the user's function runs, by a
leaf of its own: interning makes equal constants one node, so in ``f(x, x)``
only a fresh leaf tells the first argument from the second. The gradient graph
is built in terms of those leaves, then rebuilt in terms of the arguments
themselves (``substitute``), so nested transforms (``grad(grad(f))``,
``jit(grad(f))``) see one graph of their own arguments. The user's function
runs while the thread is marked as recording, so jitted functions inline.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _dtypes, _pytree, _tracing
from .._array import Array
from .._builder import cast, elementwise, node_of, reshape_node
from .._creation_functions import asarray, zeros
from .._errors import TracerConversionError, format_location, located
from .._graph import Node, intern, unique
from .._manipulation_functions import stack
from .._ops import REGISTRY
from ..compile.eager import materialize
from .backprop import backward, substitute

_CONSTANT = REGISTRY["constant"]
_INPUT = REGISTRY["input"]
_placeholder_ids = itertools.count()


# ----------------------------------------------------------------------------- leaves
def _leaf(node: Node) -> Node:
    """A fresh leaf standing for ``node``: with its value when it has (or can get) one,
    so the user's function may still read values; else a traced input of its own."""
    value = node.value
    if value is None and not _tracing.depth():
        try:
            value = materialize([node])[0]
        except TracerConversionError:
            value = None
    if value is not None:
        return unique(_CONSTANT, node.shape, node.dtype, value)
    trace = ("grad", next(_placeholder_ids))
    attrs = (("dtype", node.dtype), ("index", 0), ("shape", node.shape), ("trace", trace))
    return intern(_INPUT, (), attrs, node.shape, node.dtype, None)


def _argument_node(x: Any, fname: str) -> Node:
    """A differentiated argument as a node; only floating-point arrays have gradients."""
    if isinstance(x, float | complex) and not isinstance(x, np.generic):
        x = asarray(x)
    try:
        node = node_of(x, f"{fname}: a differentiated argument")
    except TypeError as e:
        raise located(TypeError, str(e).split(" (at ")[0]) from None
    if not _dtypes.is_floating(node.dtype):
        raise located(
            TypeError,
            f"{fname}: cannot differentiate with respect to an argument of dtype {node.dtype}; "
            f"only real and complex floating-point arrays have gradients (cast it with "
            f"xp.astype, or leave it out of argnums)",
        )
    return node


def leaf_of(obj: Any, fname: str) -> Node:
    """The graph leaf that ``obj`` (a ``wrt=`` entry) stands for.

    An Array stands for its own node; any other object may name its leaf through a
    ``_grad_leaf()`` method (the hook through which State values will be differentiated).
    """
    if isinstance(obj, Array):
        return obj._node
    hook = getattr(obj, "_grad_leaf", None)
    if hook is not None:
        return hook()
    raise located(TypeError, f"{fname}: wrt entries must be Arrays, got {type(obj).__name__}")


# ----------------------------------------------------------------------------- tracing
class _Traced:
    """A call of the user's function with fresh leaves for the differentiated inputs."""

    def __init__(self, fun: Callable, args: tuple, kwargs: dict, argnums, wrt, fname: str):
        self.fname = fname
        if wrt is not None:
            leaves, self.tree = _pytree.flatten(wrt)
            self.originals = [leaf_of(w, fname) for w in leaves]
            self.leaves = self.originals
            call_args = args
        else:
            args = list(args)
            selected = _selected(argnums, len(args), fname)
            trees = []
            self.originals, self.leaves = [], []
            for i in selected:
                leaves, tree = _pytree.flatten(args[i])
                nodes = [_argument_node(x, fname) for x in leaves]
                fresh = [_leaf(n) for n in nodes]
                self.originals += nodes
                self.leaves += fresh
                args[i] = _pytree.unflatten(tree, [Array._new(n) for n in fresh])
                trees.append(tree)
            self.tree = trees[0] if isinstance(argnums, int) else ("tuple", tuple(trees))
            call_args = tuple(args)
        with _tracing.recording():
            self.result = fun(*call_args, **kwargs)
        self.mapping = {
            leaf: original
            for leaf, original in zip(self.leaves, self.originals)
            if leaf is not original
        }

    def restore(self, arrays: list[Array | None]) -> list[Array | None]:
        """Graphs built on the fresh leaves, rebuilt on the caller's arguments."""
        nodes = [a._node for a in arrays if a is not None]
        rebuilt = iter(substitute(nodes, self.mapping))
        return [None if a is None else Array._new(next(rebuilt)) for a in arrays]

    def gradients(self, outputs: list[Node], cotangents: list[Array]) -> Any:
        """The cotangents of the differentiated inputs, as a tree like theirs."""
        grads = backward(outputs, cotangents, self.leaves)
        grads = [_zeros_for(n) if g is None else g for g, n in zip(grads, self.originals)]
        return _pytree.unflatten(self.tree, self.restore(grads))

    def restored_tree(self, tree: Any) -> Any:
        leaves, treedef = _pytree.flatten(tree)
        arrays = [x if isinstance(x, Array) else None for x in leaves]
        rebuilt = self.restore(arrays)
        return _pytree.unflatten(
            treedef, [x if a is None else r for x, a, r in zip(leaves, arrays, rebuilt)]
        )


def _selected(argnums: Any, nargs: int, fname: str) -> tuple[int, ...]:
    items = (argnums,) if isinstance(argnums, int) else argnums
    out = []
    for i in items:
        if isinstance(i, bool) or not isinstance(i, int):
            raise located(TypeError, f"{fname}: argnums must be an int or a tuple of ints")
        if not -nargs <= i < nargs:
            raise located(
                ValueError,
                f"{fname}: argnums {i} is out of range for a call with {nargs} positional "
                f"argument{'s' if nargs != 1 else ''}",
            )
        out.append(i % nargs)
    return tuple(out)


def _check_argnums(argnums: Any, fname: str) -> None:
    items = (argnums,) if isinstance(argnums, int) else argnums
    if not isinstance(items, tuple) or any(
        isinstance(i, bool) or not isinstance(i, int) for i in items
    ):
        raise located(
            TypeError, f"{fname}: argnums must be an int or a tuple of ints, got {argnums!r}"
        )


def _zeros_for(node: Node) -> Array:
    return zeros(node.shape, dtype=node.dtype)


def _split_aux(result: Any, has_aux: bool, fname: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise located(
            TypeError, f"{fname}: with has_aux=True the function must return a pair (out, aux)"
        )
    return result[0], result[1]


def _scalar_output(out: Any, fname: str) -> Node:
    """The node of a function's output that ``grad`` can differentiate: a real scalar."""
    if not isinstance(out, Array):
        raise located(
            TypeError,
            f"{fname}: the function must return a scalar array, got {type(out).__name__}",
        )
    node = out._node
    written = f" (the output was written at {format_location(node.loc)})"
    if node.shape != ():
        raise located(
            TypeError,
            f"{fname}: the function must return a scalar, got shape {node.shape}{written}; "
            f"sum it, or use xp.vjp with a cotangent for non-scalar outputs",
        )
    if not _dtypes.is_floating(node.dtype) or _dtypes.is_complex(node.dtype):
        raise located(
            TypeError,
            f"{fname}: the function must return a real floating-point scalar, got "
            f"{node.dtype}{written}; use xp.vjp for complex outputs",
        )
    return node


def _one(node: Node) -> Array:
    return Array._new(cast(asarray(1.0)._node, node.dtype))


# ----------------------------------------------------------------------------- grad
def grad(fun: Any, argnums: Any = 0, has_aux: bool = False, *, wrt: Any = None) -> Any:
    """The gradient of a scalar function, as a function; or of a lazy scalar, as Arrays.

    ``grad(fun, argnums=0)`` returns a function computing the gradient of ``fun``
    with respect to its positional arguments ``argnums`` (an int or a tuple; each
    argument may be a pytree of floating-point arrays). ``wrt=`` differentiates
    with respect to graph leaves that ``fun`` reads instead (Arrays it closes over).

    Theano style: when ``fun`` is a lazy scalar Array, ``grad(cost, wrt)`` returns
    the gradient with respect to ``wrt`` (an Array or a list/tuple of them) as lazy
    Arrays.

    >>> import lazyarr as xp
    >>> float(xp.grad(lambda x: x**3)(2.0))
    12.0
    >>> x = xp.asarray([1.0, 2.0])
    >>> xp.grad(xp.sum(x**3), x).shape
    (2,)
    """
    if isinstance(fun, Array):
        return _symbolic("grad", fun, argnums if wrt is None else wrt)[1]
    value_and_grad_fun = value_and_grad(fun, argnums, has_aux, wrt=wrt)

    @functools.wraps(fun)
    def gradient(*args, **kwargs):
        value, g = value_and_grad_fun(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return gradient


def value_and_grad(fun: Any, argnums: Any = 0, has_aux: bool = False, *, wrt: Any = None) -> Any:
    """Like ``grad``, but the function returns ``(value, gradient)``.

    With ``has_aux=True``, ``fun`` returns ``(value, aux)`` and the result is
    ``((value, aux), gradient)``. Theano style, ``value_and_grad(cost, wrt)`` returns
    ``(cost, gradients)``.

    >>> import lazyarr as xp
    >>> v, g = xp.value_and_grad(lambda x: xp.sum(x * x))(xp.asarray([1.0, 2.0]))
    >>> float(v), g.shape
    (5.0, (2,))
    """
    if isinstance(fun, Array):
        return _symbolic("value_and_grad", fun, argnums if wrt is None else wrt)
    if not callable(fun):
        raise located(TypeError, f"value_and_grad: expected a function, got {type(fun).__name__}")
    if wrt is None:
        _check_argnums(argnums, "grad")

    @functools.wraps(fun)
    def value_and_gradient(*args, **kwargs):
        traced = _Traced(fun, args, kwargs, argnums, wrt, "grad")
        out, aux = _split_aux(traced.result, has_aux, "grad")
        node = _scalar_output(out, "grad")
        g = traced.gradients([node], [_one(node)])
        value = traced.restored_tree(out)
        return ((value, traced.restored_tree(aux)) if has_aux else value), g

    return value_and_gradient


def _symbolic(fname: str, cost: Array, wrt: Any) -> tuple[Array, Any]:
    """Theano's ``T.grad(cost, wrt)``: gradients of a lazy scalar as lazy Arrays."""
    if wrt is None or isinstance(wrt, int):
        raise located(TypeError, f"{fname}(cost, wrt): wrt (an Array or a list of them) is needed")
    node = _scalar_output(cost, fname)
    single = not isinstance(wrt, list | tuple)
    items = [wrt] if single else list(wrt)
    leaves = [leaf_of(w, fname) for w in items]
    for leaf in leaves:
        if not _dtypes.is_floating(leaf.dtype):
            raise located(
                TypeError,
                f"{fname}: cannot differentiate with respect to an array of dtype {leaf.dtype}",
            )
    grads = backward([node], [_one(node)], leaves)
    grads = [_zeros_for(n) if g is None else g for g, n in zip(grads, leaves)]
    return cost, grads[0] if single else type(wrt)(grads)


# ----------------------------------------------------------------------------- vjp / jvp
def _output_nodes(tree: Any, fname: str) -> tuple[Any, list[Node]]:
    leaves, treedef = _pytree.flatten(tree)
    nodes = []
    for x in leaves:
        if not isinstance(x, Array):
            raise located(
                TypeError, f"{fname}: the function must return arrays, got {type(x).__name__}"
            )
        nodes.append(x._node)
    return treedef, nodes


def _matching(values: Any, treedef: Any, nodes: list[Node], what: str, fname: str) -> list[Array]:
    """``values`` (a tree like ``nodes``'s) as Arrays of their shapes and dtypes."""
    leaves, tree = _pytree.flatten(values)
    if tree != treedef:
        raise located(
            ValueError, f"{fname}: the {what} must have the structure of the values they go with"
        )
    out = []
    for v, node in zip(leaves, nodes):
        a = node_of(v, f"{fname}: {what}")
        if a.shape != node.shape:
            raise located(
                ValueError, f"{fname}: a {what} has shape {a.shape}, expected {node.shape}"
            )
        if a.dtype != node.dtype:
            a = cast(a, node.dtype)
        out.append(Array._new(a))
    return out


def vjp(fun: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``fun``'s outputs at ``primals``, and the function mapping output cotangents
    to input cotangents (one per primal, each shaped like it).

    >>> import lazyarr as xp
    >>> y, pullback = xp.vjp(xp.sin, xp.asarray([0.0, 1.0]))
    >>> (ct,) = pullback(xp.asarray([1.0, 1.0]))
    >>> ct.shape
    (2,)
    """
    traced = _Traced(fun, primals, {}, tuple(range(len(primals))), None, "vjp")
    out, aux = _split_aux(traced.result, has_aux, "vjp")
    treedef, nodes = _output_nodes(out, "vjp")

    def pullback(cotangents: Any) -> tuple:
        cts = _matching(cotangents, treedef, nodes, "cotangents", "vjp")
        return traced.gradients(nodes, cts)

    value = traced.restored_tree(out)
    return (value, pullback, traced.restored_tree(aux)) if has_aux else (value, pullback)


def jvp(fun: Callable, primals: Sequence, tangents: Sequence) -> tuple[Any, Any]:
    """``fun``'s outputs at ``primals`` and their directional derivatives along ``tangents``.

    Forward mode by transposing reverse mode: the VJP is linear in its cotangent
    ``u``, and its own VJP with respect to ``u`` is ``J @ tangents``. Costs about
    two reverse passes.

    >>> import lazyarr as xp
    >>> y, dy = xp.jvp(xp.exp, (xp.asarray([0.0]),), (xp.asarray([2.0]),))
    >>> float(dy[0])
    2.0
    """
    if not isinstance(primals, tuple | list) or not isinstance(tangents, tuple | list):
        raise located(TypeError, "jvp: primals and tangents must be tuples (or lists)")
    if len(primals) != len(tangents):
        raise located(ValueError, "jvp: primals and tangents differ in length")
    traced = _Traced(fun, tuple(primals), {}, tuple(range(len(primals))), None, "jvp")
    tangent_leaves = _matching(tuple(tangents), traced.tree, traced.originals, "tangents", "jvp")
    treedef, nodes = _output_nodes(traced.result, "jvp")
    inexact = [n for n in nodes if _dtypes.is_floating(n.dtype)]
    probes = {n: _leaf_without_value(n) for n in inexact}
    pulled = backward(inexact, [Array._new(probes[n]) for n in inexact], traced.leaves)
    linear = [(g._node, t) for g, t in zip(pulled, tangent_leaves) if g is not None]
    pushed = backward([g for g, _ in linear], [t for _, t in linear], [probes[n] for n in inexact])
    by_output = {n: t for n, t in zip(inexact, pushed) if t is not None}
    out_tangents = [by_output[n] if n in by_output else _zeros_for(n) for n in nodes]
    values = traced.restore([Array._new(n) for n in nodes])
    return (
        _pytree.unflatten(treedef, values),
        _pytree.unflatten(treedef, traced.restore(out_tangents)),
    )


def _leaf_without_value(node: Node) -> Node:
    trace = ("jvp", next(_placeholder_ids))
    attrs = (("dtype", node.dtype), ("index", 0), ("shape", node.shape), ("trace", trace))
    return intern(_INPUT, (), attrs, node.shape, node.dtype, None)


# ----------------------------------------------------------------------------- jacobian
def jacobian(fun: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """The Jacobian of ``fun``: for an output of shape ``S`` and an input of shape ``T``,
    an array of shape ``S + T`` (a tree of them for tree inputs and outputs).

    Reverse mode (one VJP per output element, ``jacrev``) when the outputs have at
    most as many elements as the differentiated inputs, else forward mode (one JVP
    per input element, ``jacfwd``): the same Jacobian, in fewer passes. Each block has
    the dtype of its input. For complex outputs, the function must be holomorphic.

    >>> import lazyarr as xp
    >>> xp.jacobian(lambda x: x * x)(xp.asarray([1.0, 2.0])).shape
    (2, 2)
    """
    return _jacobian(fun, argnums, has_aux, "jacobian")


def jacrev(fun: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """``jacobian`` in reverse mode: one VJP per output element (JAX's ``jacrev``).

    >>> import lazyarr as xp
    >>> from lazyarr.grad import jacrev
    >>> jacrev(lambda x: xp.sum(x * x))(xp.asarray([1.0, 2.0])).shape
    (2,)
    """
    return _jacobian(fun, argnums, has_aux, "jacrev")


def jacfwd(fun: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """``jacobian`` in forward mode: one JVP per input element (JAX's ``jacfwd``).

    The JVPs transpose the VJP (as ``jvp`` does): the pullback is built once, and each
    column of the Jacobian is one reverse pass over it.

    >>> import lazyarr as xp
    >>> from lazyarr.grad import jacfwd
    >>> jacfwd(lambda x: xp.stack([x, x * x]))(xp.asarray(3.0)).shape
    (2,)
    """
    return _jacobian(fun, argnums, has_aux, "jacfwd")


def _jacobian(fun: Callable, argnums: Any, has_aux: bool, fname: str) -> Callable:
    _check_argnums(argnums, fname)

    @functools.wraps(fun)
    def jacobian_fun(*args, **kwargs):
        traced = _Traced(fun, args, kwargs, argnums, None, fname)
        out, aux = _split_aux(traced.result, has_aux, fname)
        treedef, nodes = _output_nodes(out, fname)
        forward = fname == "jacfwd" or (
            fname == "jacobian"
            and sum(leaf.size for leaf in traced.leaves) < sum(n.size for n in nodes)
        )
        if forward:
            blocks = _forward_blocks(traced, nodes)
        else:
            blocks = [_jacobian_blocks(traced, node) for node in nodes]
        result = _pytree.unflatten(treedef, blocks)
        return (result, traced.restored_tree(aux)) if has_aux else result

    return jacobian_fun


def _unit(node: Node, i: int, dtype: np.dtype) -> Array:
    """The ``i``-th basis array of ``node``'s shape (a constant)."""
    one_hot = np.zeros(node.size, dtype=dtype)
    one_hot[i] = 1
    return Array._new(reshape_node(asarray(one_hot)._node, node.shape))


def _jacobian_blocks(traced: _Traced, node: Node) -> Any:
    """d node / d inputs, one reverse pass per element of ``node``."""
    rows: list[list[Array]] = [[] for _ in traced.leaves]
    for i in range(node.size):
        grads = backward([node], [_unit(node, i, node.dtype)], traced.leaves)
        for row, g, leaf in zip(rows, grads, traced.leaves):
            row.append(_zeros_for(leaf) if g is None else g)
    blocks = [
        _stacked(row, node.shape, leaf.shape, leaf.dtype, 0)
        for row, leaf in zip(rows, traced.leaves)
    ]
    return _pytree.unflatten(traced.tree, traced.restore(blocks))


def _forward_blocks(traced: _Traced, nodes: list[Node]) -> list[Any]:
    """d nodes / d inputs, one forward pass (a transposed pullback) per input element."""
    inexact = [n for n in nodes if _dtypes.is_floating(n.dtype)]
    probes = {n: _leaf_without_value(n) for n in inexact}
    pulled = backward(inexact, [Array._new(probes[n]) for n in inexact], traced.leaves)
    columns: list[list[list[Array]]] = [[[] for _ in traced.leaves] for _ in nodes]
    for k, (leaf, g) in enumerate(zip(traced.leaves, pulled)):
        for i in range(leaf.size if g is not None else 0):
            pushed = backward([g._node], [_unit(leaf, i, leaf.dtype)], list(probes.values()))
            by_output = dict(zip(inexact, pushed))
            for node, column in zip(nodes, columns):
                t = by_output.get(node)
                column[k].append(_zeros_for(node) if t is None else _as_dtype(t, leaf.dtype))
    blocks = []
    for node, column in zip(nodes, columns):
        block = [
            _stacked(cols, leaf.shape, node.shape, leaf.dtype, node.ndim)
            for cols, leaf in zip(column, traced.leaves)
        ]
        blocks.append(_pytree.unflatten(traced.tree, traced.restore(block)))
    return blocks


def _as_dtype(t: Array, dtype: np.dtype) -> Array:
    """A tangent in its input's dtype, as reverse mode gives it (a real part if real)."""
    if _dtypes.is_complex(t.dtype) and not _dtypes.is_complex(dtype):
        t = elementwise("real", t)
    return Array._new(cast(t._node, dtype))


def _stacked(parts: list[Array], outer: tuple, inner: tuple, dtype: np.dtype, axis: int) -> Array:
    """``parts`` (one per element of ``outer``, each of shape ``inner``) as an array of
    shape ``outer + inner`` (``axis=0``) or ``inner + outer`` (``axis=inner.ndim``)."""
    shape = outer + inner if axis == 0 else inner + outer
    if not parts:
        return zeros(shape, dtype=dtype)
    parts = [_as_dtype(p, dtype) for p in parts]
    block = (
        stack(parts, axis=axis)
        if len(parts) > 1
        else Array._new(reshape_node(parts[0]._node, inner[:axis] + (1,) + inner[axis:]))
    )
    return Array._new(reshape_node(block._node, shape))


def hessian(fun: Callable, argnums: Any = 0) -> Callable:
    """The Hessian of a scalar function: the Jacobian of its gradient.

    >>> import lazyarr as xp
    >>> xp.hessian(lambda x: xp.sum(x**3))(xp.asarray([1.0, 2.0])).shape
    (2, 2)
    """
    return jacobian(grad(fun, argnums), argnums)
