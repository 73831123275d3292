"""``goldenpath import``: an existing Markdown how-to as a golden-path guide folder.

The page is made plain (:mod:`.source`), parsed into blocks (:mod:`.blocks`), mapped onto the
spec (:mod:`.mapping`, :mod:`.commands`) and written (:mod:`.writer`): a ``guide.yaml`` whose
top lists, as comments, everything the import could not map, and a ``templates/`` folder. The
guide is validated and linted before it is moved into place, so a failed import leaves nothing.
``goldenpath check --accept`` then fills the expected outputs from a real run.
"""
