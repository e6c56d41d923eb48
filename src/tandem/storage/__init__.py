"""Storage for tickets, feedback, API keys and traces: SQLite files by default, PostgreSQL by URL."""

from tandem.storage.database import Database, Schema, as_database, sqlite_url
from tandem.storage.feedback import FeedbackStore
from tandem.storage.keys import ApiKey, KeyStore
from tandem.storage.open import open_store, store_url

__all__ = [
    "ApiKey",
    "Database",
    "FeedbackStore",
    "KeyStore",
    "Schema",
    "as_database",
    "open_store",
    "sqlite_url",
    "store_url",
]
