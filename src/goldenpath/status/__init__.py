"""What the run history says about each guide: the SQLite history, the freshness policy
(verified, stale, broken, unverified) and the status reports built on both.
"""
