"""Template filters for the admin pages: account and status tags, ages, durations, money."""

import json

from django import template

from emag_sync.admin import display

register = template.Library()


@register.filter
def account_tag(name: str):
    return display.account_tag(name)


@register.filter
def account_colour_class(name: str) -> str:
    return display.account_colour_class(name)


@register.filter
def status_tag(status: str):
    return display.status_tag(status)


@register.filter
def trigger(triggered_by: str) -> str:
    return display.trigger_label(triggered_by)


@register.filter
def age(moment):
    return display.age(moment)


@register.filter
def duration(seconds):
    return display.duration(seconds)


@register.filter
def period(span):
    return display.period(span)


@register.filter
def money(value, currency: str = ""):
    return display.money(value, currency)


@register.filter
def thousands(value):
    """Group digits the active language's way (1,274 or 1.274; display.count)."""
    return display.count(value) if isinstance(value, int) else value


@register.filter
def compact_json(value, limit: int = 120):
    """Show a JSON value on one line, shortened; plain scalars as they are."""
    if value is None:
        return "—"
    if isinstance(value, str | int | float | bool):
        return str(value)
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
