"""The store layer: the only code that talks to pygit2.

Modules that do not need libgit2 (``codec``, ``keys``, ``trailers``) do not
import it, so they can be used (and tested) alone.
"""
