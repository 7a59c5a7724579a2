"""fluxlab tests, grouped by layer: core, adapters, sandbox, services, cli, tui (support: shared helpers)."""
