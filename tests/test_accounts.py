"""Accounts come from the environment: adding one is configuration, not code."""

import zoneinfo

import pytest
from django.core.exceptions import ImproperlyConfigured

from emag_sync.accounts import get_account, get_accounts, resolve_account_names


def test_a_third_account_is_added_by_environment_only(settings, monkeypatch):
    settings.EMAG_ACCOUNTS = ["main", "fbe", "bg"]
    monkeypatch.setenv("EMAG_BG_USERNAME", "seller-bg")
    monkeypatch.setenv("EMAG_BG_PASSWORD", "secret-bg")
    monkeypatch.setenv("EMAG_BG_API_URL", "https://marketplace-api.emag.bg/api-3")
    monkeypatch.setenv("EMAG_BG_TIMEZONE", "Europe/Sofia")

    bg = get_account("bg")

    assert list(get_accounts()) == ["main", "fbe", "bg"]
    assert bg.api_url == "https://marketplace-api.emag.bg/api-3"
    assert bg.timezone == zoneinfo.ZoneInfo("Europe/Sofia")
    assert bg.fulfillment == "seller"
    assert resolve_account_names("all") == ["main", "fbe", "bg"]


def test_both_is_an_alias_of_all():
    assert resolve_account_names("both") == resolve_account_names("all") == ["main", "fbe"]


def test_defaults_are_the_real_romanian_url_and_bucharest_time(monkeypatch):
    monkeypatch.delenv("EMAG_MAIN_API_URL")
    main = get_account("main")
    assert main.api_url == "https://marketplace-api.emag.ro/api-3"
    assert main.timezone == zoneinfo.ZoneInfo("Europe/Bucharest")
    assert get_account("fbe").is_fulfilled_by_emag


def test_an_unknown_account_names_the_configured_ones():
    with pytest.raises(KeyError, match="main, fbe"):
        get_account("pl")


def test_the_password_never_shows_in_the_account_repr(monkeypatch):
    monkeypatch.setenv("EMAG_MAIN_PASSWORD", "very-secret-password")
    assert "very-secret-password" not in repr(get_account("main"))


def test_production_mode_refuses_an_account_without_credentials(settings, monkeypatch):
    settings.DEBUG = False
    monkeypatch.delenv("EMAG_MAIN_USERNAME", raising=False)
    with pytest.raises(ImproperlyConfigured, match="EMAG_MAIN_USERNAME"):
        get_accounts()


def test_a_bad_time_zone_is_a_clear_configuration_error(monkeypatch):
    monkeypatch.setenv("EMAG_MAIN_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ImproperlyConfigured, match="EMAG_MAIN_TIMEZONE"):
        get_accounts()
