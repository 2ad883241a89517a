"""Order read ranges respect eMAG's one-month rule and cover the hour repeated at DST's end."""

from datetime import UTC, datetime, timedelta

import pytest

from emag_sync.sandbox.filters import parse_order_filters
from emag_sync.services.order_windows import (
    effective_overlap,
    ends_daylight_saving_near,
    local_midnight,
    month_windows,
)
from tests.orders_support import BUCHAREST, local_text

TEN_MINUTES = timedelta(minutes=10)
# Bucharest leaves summer time on 26 October 2025 at 04:00 local (01:00 UTC): 03:00-03:59
# happens twice. It enters summer time on 30 March 2025 at 03:00 local (01:00 UTC).
DST_ENDS = datetime(2025, 10, 26, 1, 0, tzinfo=UTC)
DST_STARTS = datetime(2025, 3, 30, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "start",
    [
        datetime(2025, 1, 31, 10, 0, tzinfo=UTC),  # the 31st clamps to the end of February
        datetime(2024, 1, 30, 22, 0, tzinfo=UTC),  # a leap year, local date already the 31st
        datetime(2025, 2, 28, 1, 30, tzinfo=UTC),  # a month later falls in the skipped hour
        datetime(2025, 9, 26, 0, 30, tzinfo=UTC),  # a month later falls in the repeated hour
        datetime(2025, 12, 15, 9, 0, tzinfo=UTC),  # across the new year
    ],
)
def test_every_window_is_one_month_at_most_by_emags_own_rule(start):
    windows = month_windows(start, start + timedelta(days=400), BUCHAREST)

    for after, before in windows:
        # The sandbox's parser applies eMAG's rule and raises InputError on a longer window.
        parse_order_filters(
            {"modifiedAfter": local_text(after), "modifiedBefore": local_text(before)},
            counting=True,
        )
    assert windows[0][0] == start
    assert windows[-1][1] == start + timedelta(days=400)
    assert all(left[1] == right[0] for left, right in zip(windows, windows[1:], strict=False))
    assert len(windows) == 14


def test_a_range_shorter_than_a_month_is_one_window_and_an_empty_range_none():
    start = datetime(2025, 9, 1, tzinfo=UTC)

    assert month_windows(start, start + timedelta(days=3), BUCHAREST) == [
        (start, start + timedelta(days=3))
    ]
    assert month_windows(start, start, BUCHAREST) == []
    assert month_windows(start, start - timedelta(days=1), BUCHAREST) == []


def test_local_midnight_is_the_start_of_the_day_in_the_accounts_zone():
    assert local_midnight(datetime(2025, 9, 15).date(), BUCHAREST) == datetime(
        2025, 9, 14, 21, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("cursor", "widened"),
    [
        (DST_ENDS - timedelta(minutes=20), True),  # 03:40, first pass of the repeated hour
        (DST_ENDS + timedelta(minutes=5), True),  # 03:05, second pass: start is in the first
        (DST_ENDS - timedelta(hours=3), False),  # 01:00 local, long before
        (DST_ENDS + timedelta(hours=3), False),  # long after
        (DST_STARTS + timedelta(minutes=5), False),  # clocks going forward repeat nothing
        (datetime(2025, 9, 15, 9, 30, tzinfo=UTC), False),
    ],
)
def test_the_overlap_grows_by_the_repeated_hour_only_when_daylight_saving_ends(cursor, widened):
    overlap = effective_overlap(cursor, TEN_MINUTES, BUCHAREST)

    assert (overlap >= timedelta(minutes=61)) is widened
    assert overlap == (timedelta(minutes=70) if widened else TEN_MINUTES)


def test_a_start_in_the_first_pass_of_the_repeated_hour_still_reaches_the_second_pass():
    cursor = DST_ENDS - timedelta(minutes=1)  # 03:59:00 summer time, the latest first-pass
    start = cursor - effective_overlap(cursor, TEN_MINUTES, BUCHAREST)

    # Every later local time, including 03:00:00 of the second pass, sorts after the start.
    assert local_text(start) <= local_text(DST_ENDS) == "2025-10-26 03:00:00"


def test_even_without_an_overlap_the_repeated_hour_is_covered():
    assert effective_overlap(DST_ENDS - timedelta(minutes=30), timedelta(0), BUCHAREST) == (
        timedelta(minutes=61)
    )


def test_dst_detection_looks_an_hour_either_side():
    assert ends_daylight_saving_near(DST_ENDS, BUCHAREST)
    assert ends_daylight_saving_near(DST_ENDS + timedelta(minutes=59), BUCHAREST)
    assert not ends_daylight_saving_near(DST_ENDS + timedelta(minutes=61), BUCHAREST)
    assert not ends_daylight_saving_near(DST_STARTS, BUCHAREST)
