"""One error family: every message names the bad value and says how to fix it."""

from __future__ import annotations


class TandemError(Exception):
    """Base class for errors that Tandem reports to users as one readable line."""


class ConfigError(TandemError):
    """A setting is missing or invalid."""


class InputError(TandemError):
    """A question, file or request that Tandem cannot use as given."""


class DocumentError(InputError):
    """A document could not be read or parsed."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class IndexError_(TandemError):
    """The index is missing, locked, or incompatible with the configured encoder."""


class ModelError(TandemError):
    """A model could not be found or loaded."""


class StorageError(TandemError):
    """A database for tickets, feedback, API keys or traces cannot be reached or used."""


class ClusterError(TandemError):
    """A Ray cluster cannot be reached, or its workers cannot run Tandem's ingestion."""


class NotFoundError(TandemError):
    """A named thing (a conversation, a ticket) does not exist for the caller."""
