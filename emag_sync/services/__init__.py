"""Writes: every change to offers, runs, edits and conflicts goes through these services."""
