"""Runnable examples: ``python -m lazyarr.examples.<name>``."""
