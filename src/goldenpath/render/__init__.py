"""Rendering a guide with parameter values: the Jinja2 environment, rendered guides for pages
and runs alike, Kubernetes manifest validation, and scaffolding for ``goldenpath new``.
"""
