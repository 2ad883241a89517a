"""Prometheus metrics: what the processes count (metrics.py), what the database says (gauges.py)."""
