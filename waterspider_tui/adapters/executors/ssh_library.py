"""asyncssh, imported once for every SSH module, without its import-time deprecation noise.

asyncssh still names the DSA key types in its annotations, so importing it makes `cryptography`
warn five times that DSA is deprecated, on every command that touches SSH. We never use DSA
keys and the warnings are not ours to act on, so only that category, and only when it is
raised from asyncssh's own modules, is silenced; every other warning still shows.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning

warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning, module=r"asyncssh(\.|$)")

import asyncssh  # noqa: E402  (after the filter, which must be in place when asyncssh loads)

__all__ = ["asyncssh"]
