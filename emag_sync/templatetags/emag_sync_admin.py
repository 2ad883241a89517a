"""Template filters for the admin pages: account and status tags, ages, durations, money."""

import json

from django import template

from emag_sync.admin import display

register = template.Library()


# The admin's display helpers are the filters themselves: one formatting rule for Python
# and templates alike.
register.filter("account_tag", display.account_tag)
register.filter("account_colour_class", display.account_colour_class)
register.filter("status_tag", display.status_tag)
register.filter("trigger", display.trigger_label)
register.filter("age", display.age)
register.filter("duration", display.duration)
register.filter("period", display.period)
register.filter("money", display.money)


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
