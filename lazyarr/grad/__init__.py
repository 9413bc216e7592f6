"""Reverse-mode differentiation as a graph-to-graph transformation.

Gradients read a graph and write a graph, so they are evaluated, optimized and
compiled like any other. The VJP rules will live on the op records of
``lazyarr/_ops.py``, next to each op's shape rule and reference implementation.
"""
