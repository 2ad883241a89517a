"""Pure parsing of eMAG payloads into column values (offers, orders); one error type."""
