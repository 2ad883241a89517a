"""`make audit`: pip-audit's findings fail it, and an unreachable service is said, not hidden."""

import os
from pathlib import Path

from scripts.audit import summarize
from tests.conftest import run_python

ROOT = Path(__file__).resolve().parent.parent


def dependency(name: str, version: str = "1.0", vulns=()) -> dict:
    return {"name": name, "version": version, "vulns": list(vulns)}


def test_known_vulnerabilities_fail_the_audit_and_are_listed_with_their_fix():
    report = {
        "dependencies": [
            dependency("django", "5.2.0", [{"id": "PYSEC-2026-1", "fix_versions": ["5.2.9"]}]),
            dependency("requests"),
            {"name": "magflow-emag-sync", "skip_reason": "Dependency not found on PyPI"},
        ]
    }

    status, lines = summarize(report)

    assert status == 1
    assert lines[0] == "make audit: 1 known vulnerability in 1 of 2 packages:"
    assert "  django 5.2.0: PYSEC-2026-1 (fixed in 5.2.9)" in lines
    assert "  skipped magflow-emag-sync: Dependency not found on PyPI" in lines


def test_a_clean_report_passes():
    status, lines = summarize({"dependencies": [dependency("django"), dependency("celery")]})

    assert status == 0
    assert lines == ["make audit: no known vulnerability in 2 packages."]


def test_a_service_that_could_audit_nothing_is_reported_as_unreachable_not_as_clean():
    report = {
        "dependencies": [
            {
                "name": "django",
                "skip_reason": "Dependency not found on PyPI and could not be audited",
            },
            {
                "name": "celery",
                "skip_reason": "Dependency not found on PyPI and could not be audited",
            },
        ]
    }

    status, lines = summarize(report)

    assert status == 0
    assert lines[0].startswith("make audit: vulnerability service unreachable")


def test_without_the_network_it_says_service_unreachable_and_exits_0():
    # Every HTTPS request goes to a proxy that is not there: no network is touched.
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)

    result = run_python(["scripts/audit.py"], env)

    assert result.returncode == 0, result.stderr
    assert "vulnerability service unreachable" in result.stdout
    assert "nothing was audited" in result.stdout
