"""goldenpath."""
