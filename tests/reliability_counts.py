"""Count what the reliability and security tests put the app through, for docs/RELIABILITY.md.

A pytest plugin, off by default:

    .venv/bin/pytest -p tests.reliability_counts tests/test_reliability_faults.py ...

At the end it prints, per test file: tests run, sync runs started, runs still queued or running
when their test ended (tests of the API and the admin create such runs on purpose, as the
state they act on; sync tests must leave none), eMAG faults the sandbox served, HTTP requests the app answered (test
client, live server and schemathesis alike) and how many of those were server errors.
Runs started by child processes are seen in the database when their test ends; runs of a test
that empties the database between examples (the property test) are counted as they are created.
"""

from collections import Counter, defaultdict

import pytest

_counts: dict[str, Counter] = defaultdict(Counter)
_current = {"file": None}


def _count(name: str, amount: int = 1) -> None:
    if _current["file"]:
        _counts[_current["file"]][name] += amount


def pytest_configure(config):
    from django.core.handlers.base import BaseHandler

    from emag_sync.models import SyncRun
    from emag_sync.sandbox.faults import FaultBook

    take = FaultBook.take

    def counted_take(self, *args, **kwargs):
        fault = take(self, *args, **kwargs)
        if fault is not None:
            _count("faults served")
        return fault

    get_response = BaseHandler.get_response

    def counted_get_response(self, request):
        response = get_response(self, request)
        _count("requests answered")
        if response.status_code >= 500:
            _count("server errors")
        return response

    save = SyncRun.save

    def counted_save(self, *args, **kwargs):
        adding = self._state.adding
        save(self, *args, **kwargs)  # a claim refused by the single-flight constraint raises
        if adding:
            _count("runs created here")

    FaultBook.take = counted_take
    BaseHandler.get_response = counted_get_response
    SyncRun.save = counted_save


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _current["file"] = item.nodeid.split("::")[0]
    _count("tests")
    created_before = _counts[_current["file"]]["runs created here"]
    yield
    from emag_sync.models import ACTIVE_STATUSES, SyncRun

    try:
        stored = SyncRun.objects.count()
        active = SyncRun.objects.filter(status__in=ACTIVE_STATUSES).count()
    except Exception:  # a test without database access
        stored = active = 0
    created_here = _counts[_current["file"]]["runs created here"] - created_before
    _count("runs", max(stored, created_here))
    _count("runs left queued or running", active)
    _current["file"] = None


def pytest_terminal_summary(terminalreporter):
    columns = [
        "tests",
        "runs",
        "runs left queued or running",
        "faults served",
        "requests answered",
        "server errors",
    ]
    terminalreporter.section("reliability counts")
    terminalreporter.write_line(" | ".join(["file", *columns]))
    totals = Counter()
    for name in sorted(_counts):
        totals.update({column: _counts[name][column] for column in columns})
        row = [str(_counts[name][column]) for column in columns]
        terminalreporter.write_line(" | ".join([name, *row]))
    terminalreporter.write_line(" | ".join(["total", *(str(totals[c]) for c in columns)]))
