"""Plan the date ranges an order sync reads: eMAG's one-month rule, the overlap and DST.

eMAG compares its zone-less local date strings (docs/emag-api.md §5.3), so everything here is
reasoned in the account's local time:

- a read range is cut into windows of at most one calendar month (eMAG rejects more);
- an incremental read starts `overlap` before the committed cursor (inclusive), for orders
  that become visible a little after their `modified` time;
- when daylight saving ends, local times 03:00-03:59 happen twice. An order changed in the
  second pass carries an earlier local time than one changed in the first pass, so a start
  inside the first pass would miss it: near that moment the overlap grows by the repeated
  hour (to at least 61 minutes).
"""

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo

REPEATED_HOUR = timedelta(hours=1)
# The repeated hour plus a minute of slack for same-second ties at its edges.
MIN_DAYLIGHT_SAVING_OVERLAP = timedelta(minutes=61)


def ends_daylight_saving_near(moment: datetime, zone: tzinfo) -> bool:
    """Return whether the zone's clocks go back within an hour either side of `moment`."""
    before = (moment - REPEATED_HOUR).astimezone(zone).utcoffset()
    after = (moment + REPEATED_HOUR).astimezone(zone).utcoffset()
    return before is not None and after is not None and after < before


def effective_overlap(cursor: datetime, overlap: timedelta, zone: tzinfo) -> timedelta:
    """Return how far before `cursor` to read, widened when daylight saving ends nearby."""
    if ends_daylight_saving_near(cursor - overlap, zone):
        return max(overlap + REPEATED_HOUR, MIN_DAYLIGHT_SAVING_OVERLAP)
    return overlap


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """Return the start of a local calendar day as an aware datetime."""
    return datetime.combine(day, time.min).replace(tzinfo=zone).astimezone(UTC)


def one_month_after(moment: datetime, zone: tzinfo) -> datetime:
    """Return the same local time a calendar month later (the 31st clamps to the month's end).

    fold=1 makes a local time that does not exist (clocks went forward) or happens twice
    resolve to an instant whose local text is not later than the target, so the window
    eMAG sees is never longer than a month.
    """
    local = moment.astimezone(zone).replace(tzinfo=None)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    day = min(local.day, calendar.monthrange(year, month)[1])
    target = local.replace(year=year, month=month, day=day).replace(tzinfo=zone, fold=1)
    # In UTC: Python compares two datetimes of the same zone by wall time, ignoring fold.
    return target.astimezone(UTC)


def month_windows(start: datetime, end: datetime, zone: tzinfo) -> list[tuple[datetime, datetime]]:
    """Split [start, end] into consecutive windows of at most one month, sharing their edges.

    eMAG's bounds are inclusive, so an order on a shared edge is read twice: harmless,
    writes are idempotent.
    """
    windows = []
    while start < end:
        stop = min(one_month_after(start, zone), end)
        windows.append((start, stop))
        start = stop
    return windows
