"""Pull-request review: git, what a guide depends on, which guides a change affects, the
review comment, and CODEOWNERS from the guides' owners.
"""
