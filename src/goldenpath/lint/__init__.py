"""Lint rules beyond schema validity, their settings in ``pyproject.toml``, and the report of
``goldenpath lint``.
"""
