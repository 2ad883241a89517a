"""SQLite backend that knows the real bind-parameter limit of the linked SQLite."""
