"""The MkDocs Material site: guide pages, status banners and the status page, the spec and
lint-rule references, the MkDocs plugin, building and serving, and the templates of all of it.
"""
