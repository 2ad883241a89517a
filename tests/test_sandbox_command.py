"""`manage.py emag_sandbox` validates its flags and announces where each account is served."""

import io
import socket

import pytest
from django.core.management import CommandError, call_command

from emag_sync.management.commands import emag_sandbox
from emag_sync.sandbox.http import SandboxHTTPServer


@pytest.fixture
def served_once(monkeypatch):
    """Make the server stop as Ctrl-C would, right after the command starts serving it."""
    started = []

    def serve_then_interrupt(server, poll_interval=0.5):
        started.append(server)
        raise KeyboardInterrupt

    monkeypatch.setattr(SandboxHTTPServer, "serve_forever", serve_then_interrupt)
    return started


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--offers", "main=abc"], "main='abc' is not a whole number"),
        (["--orders", "bg=5"], "unknown account 'bg'; configured: main, fbe"),
        (["--orders", "main"], "expected ACCOUNT=NUMBER"),
        (["--drift-every", "0"], "--drift-every must be a positive number"),
    ],
)
def test_it_refuses_bad_flags_with_a_clear_message(flags, message):
    with pytest.raises(CommandError, match=message):
        call_command("emag_sandbox", *flags)


def test_it_refuses_a_port_that_is_taken():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}"):
            call_command("emag_sandbox", "--port", str(port), "--offers", "main=5,fbe=5")


def test_it_prints_each_accounts_url_and_username_but_no_password(served_once):
    output = io.StringIO()

    call_command("emag_sandbox", "--port", "0", "--offers", "main=5,fbe=5", stdout=output)

    port = served_once[0].server_address[1]
    lines = output.getvalue().splitlines()
    assert (
        f"eMAG sandbox main: http://127.0.0.1:{port}/main/api-3 (username main@sandbox.local)"
        in lines
    )
    assert (
        f"eMAG sandbox fbe: http://127.0.0.1:{port}/fbe/api-3 (username fbe@sandbox.local)" in lines
    )
    assert "secret" not in output.getvalue()


def test_sizes_parse_into_a_mapping():
    assert emag_sandbox.parse_sizes(" main=1274, fbe=0 ", "--offers", ["main", "fbe"]) == {
        "main": 1274,
        "fbe": 0,
    }
