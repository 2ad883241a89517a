"""The embedded (filesystem) broker's folders, for tests that run it away from settings.py.

No Django here: the broker stress app (a bare Celery app in its own process) imports it too.
"""

from pathlib import Path

BROKER_SUBFOLDERS = ("queue", "processed", "control")


def filesystem_broker_options(folder: Path, **extra) -> dict:
    """Create the broker's subfolders under `folder`; return kombu's transport options for them.

    `store_processed` is off as in settings.py: a consumed message is deleted, not kept.
    """
    for sub in BROKER_SUBFOLDERS:
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
        **extra,
    }
