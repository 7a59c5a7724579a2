"""The outside world: git, registries, clusters, the file tree. No domain rules here."""
