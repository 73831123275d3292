"""``goldenpath follow``: a guide, step by step, in the reader's own terminal and environment."""
