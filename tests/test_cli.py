"""The emag_sync and emag_export commands: clear errors, honest exit codes, cancel."""

import json

import pytest
from django.core.management import CommandError, call_command

from emag_sync.models import SyncKind, SyncRun
from emag_sync.services.sync_runs import sync_run_claim

pytestmark = pytest.mark.django_db(transaction=True)


def run_command(*args):
    try:
        call_command(*args)
    except SystemExit as exit_:
        return exit_.code
    return 0


@pytest.mark.parametrize(
    "args, message",
    [
        (["--account", "pl"], "unknown eMAG account 'pl'"),
        (["--mode", "selective"], "needs filters"),
        (["--mode", "selective", "--filter", "status"], "KEY=VALUE"),
        (["--mode", "selective", "--filter", "colour=red"], "unknown filter"),
        (["--mode", "selective", "--id", "abc"], "whole numbers"),
        (["--mode", "incremental", "--max-pages", "0"], "max_pages"),
        (["--mode", "full", "--max-pages", "3"], "incremental syncs only"),
    ],
)
def test_bad_arguments_get_a_clear_error_and_change_nothing(args, message):
    with pytest.raises(CommandError, match=message) as error:
        call_command("emag_sync", "products", *args)
    assert error.value.returncode == 2
    assert not SyncRun.objects.exists()


def test_an_account_already_syncing_exits_3_and_says_so(capsys):
    sync_run_claim(account="main", kind=SyncKind.OFFERS)
    assert run_command("emag_sync", "products", "--account", "main", "--json") == 3
    report = json.loads(capsys.readouterr().out)
    assert report["runs"] == []
    assert report["already_running"][0]["account"] == "main"
    assert SyncRun.objects.count() == 1


def test_a_failed_run_exits_1_with_the_reason(capsys, fast_retries):
    # The default test accounts point at a host that does not exist.
    assert run_command("emag_sync", "products", "--account", "main", "--mode", "full") == 1
    captured = capsys.readouterr()
    assert "main: run #" in captured.out
    assert "partial" in captured.out or "failed" in captured.out


def test_cancel_flags_a_running_run_and_reports_a_finished_one(capsys):
    run = sync_run_claim(account="main", kind=SyncKind.OFFERS)
    call_command("emag_sync", "cancel", str(run.pk))
    run.refresh_from_db()
    assert run.cancel_requested
    assert "will stop after its current page" in capsys.readouterr().out

    SyncRun.objects.filter(pk=run.pk).update(status="completed")
    call_command("emag_sync", "cancel", str(run.pk))
    assert "is completed" in capsys.readouterr().out


def test_cancel_of_an_unknown_run_is_a_clear_error():
    with pytest.raises(CommandError, match="no sync run #999"):
        call_command("emag_sync", "cancel", "999")


def test_export_of_an_unknown_account_is_a_clear_error():
    with pytest.raises(CommandError, match="unknown eMAG account"):
        call_command("emag_export", "products", "--account", "pl")
