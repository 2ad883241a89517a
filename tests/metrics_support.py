"""Helpers of the metrics tests: the metric names we export, and what a panel or rule names."""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD = ROOT / "docs" / "grafana" / "magflow-emag-sync.json"
ALERTS = ROOT / "docs" / "prometheus" / "alerts.yml"
METRIC_NAME = re.compile(r"\bmagflow_[a-z0-9_]+\b")
# A comparison at the top of a rule's expression, before a number or a vector matcher.
COMPARISON = re.compile(r"(\s)(>|<|==|!=|>=|<=)(\s)")


def exported_names(exposition: str) -> set[str]:
    """Return every sample name in a Prometheus text exposition (with _bucket, _total...)."""
    names = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            names.add(name)
            # A histogram's series exist once it has a label set; its family is declared.
            if kind == "histogram":
                names.update(f"{name}{suffix}" for suffix in ("_bucket", "_count", "_sum"))
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def dashboard_queries() -> list[str]:
    """Return the query of every panel of the Grafana dashboard."""
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        target["expr"]
        for panel in dashboard["panels"]
        if panel["type"] != "row"
        for target in panel["targets"]
    ]


def rule_expressions() -> list[str]:
    """Return every rule's expression, as shipped."""
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule["expr"].strip() for group in groups for rule in group["rules"]]


def as_bool_comparison(expression: str) -> str:
    """Return an alert expression whose comparison answers 0/1 for every series it compares.

    An alert expression answers only while firing; with `bool` it answers for every series,
    so a query shows that the expression names series Prometheus has.
    """
    return COMPARISON.sub(r"\1\2 bool\3", expression, count=1)


def grafana_variable(expression: str, account: str = ".*") -> str:
    """Return a panel query with the dashboard's variables filled in."""
    return expression.replace("$account", account)
