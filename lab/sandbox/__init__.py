"""The embedded world: practice repo, local registry, loopback Kubernetes API, simulated controllers."""
