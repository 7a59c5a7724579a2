"""The three image-automation manifests: models, generation, parsing and validation."""
