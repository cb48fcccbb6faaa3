"""Exceptions raised by ailake, one class per kind of failure.

Every exception derives from :class:`AilakeError` and carries ``kind`` (the Rust
``ErrorKind`` name) and ``retryable`` (whether the same call may succeed if repeated: a lost
commit race, a storage hiccup). Where a built-in exception means the same thing, the class
derives from it too, so ``except ValueError`` catches bad input.
"""


class AilakeError(Exception):
    """Base class of every ailake error."""

    kind: str = "Internal"
    retryable: bool = False


class InvalidInputError(AilakeError, ValueError):
    """The call's arguments cannot be used (wrong dimension, NaN, unknown column, bad filter)."""


class NotFoundError(AilakeError, LookupError):
    """A table, namespace, snapshot or file does not exist."""


class AlreadyExistsError(AilakeError):
    """Something of that name already exists (a table)."""


class ConflictError(AilakeError):
    """Another writer changed the table first; reload and retry (see ``retryable``)."""


class CorruptDataError(AilakeError):
    """Stored bytes are malformed (a truncated file, bad checksum, unreadable metadata)."""


class StorageError(AilakeError, OSError):
    """The storage or catalog backend failed (disk, network, database busy)."""


class UnsupportedError(AilakeError, NotImplementedError):
    """A format version or feature this build does not support."""


class AuthError(AilakeError, PermissionError):
    """A catalog server refused the credentials (HTTP 401/403): fix the token or grants."""


class InternalError(AilakeError):
    """A bug inside ailake."""


__all__ = [
    "AilakeError",
    "InvalidInputError",
    "NotFoundError",
    "AlreadyExistsError",
    "ConflictError",
    "CorruptDataError",
    "StorageError",
    "UnsupportedError",
    "AuthError",
    "InternalError",
]
