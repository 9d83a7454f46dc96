"""Domain layer: what the data looks like, independent of HTTP and storage details."""
