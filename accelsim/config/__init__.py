"""Loading and checking user-written structured data (YAML, JSON manifests)."""
