"""fluxlab: a terminal training lab for Flux image automation."""

__version__ = "0.1.0"
