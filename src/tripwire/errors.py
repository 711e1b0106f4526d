"""One exception tree for everything a user can get wrong.

The CLI maps :class:`TripwireError` to exit code 2 and prints ``str(error)`` as a single
line; the HTTP service maps it to a 4xx with the same text in ``detail``.
"""

from __future__ import annotations


class TripwireError(Exception):
    """Base class: a problem the user can fix. The message says what and how."""


class InputError(TripwireError, ValueError):
    """The data given to tripwire cannot be used as it is (missing file, bad column, ...)."""


class UsageError(TripwireError, ValueError):
    """An option or argument is invalid or missing."""


class MissingDependencyError(TripwireError, ImportError):
    """An optional extra is needed for this feature."""

    def __init__(self, feature: str, extra: str, package: str) -> None:
        super().__init__(
            f"{feature} needs the '{package}' package, which is not installed. "
            f"Install it with: pip install 'tripwire[{extra}]'"
        )


def require(module: str, *, feature: str, extra: str, package: str | None = None):  # type: ignore[no-untyped-def]
    """Import an optional module or raise :class:`MissingDependencyError` with the fix."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without extras
        raise MissingDependencyError(feature, extra, package or module) from exc


class NotFoundError(TripwireError, LookupError):
    """A named thing (model, window, token) does not exist; HTTP maps it to 404."""


class ConflictError(TripwireError):
    """The request contradicts what is stored (a model re-created with another task); 409."""
