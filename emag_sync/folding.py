"""Fold text for searching: diacritics dropped, then upper-cased (`Cafetieră` → `CAFETIERA`).

Pure Python, without Django, so the SQLite backend can register it as a database function
(magflow.sqlite3) and models.search can build the same folding for PostgreSQL.
"""

# The letters with diacritics of eMAG's Latin-script markets, each with the plain upper-case
# letter it folds to: Romanian, with the comma-below ș ț and the cedilla ş ţ that old data
# carries, and Hungarian. Bulgarian is written in Cyrillic, which needs no folding.
# Only these: PostgreSQL's TRANSLATE walks the whole list for every letter of a name, and at
# every Latin letter with a diacritic (165) it cost 2 ms more a 100-offer page write against
# 0.35 ms for these 32 (docs/PERFORMANCE.md).
_ROMANIAN = {"ă": "A", "â": "A", "î": "I", "ș": "S", "ş": "S", "ț": "T", "ţ": "T"}
_HUNGARIAN = {
    "á": "A",
    "é": "E",
    "í": "I",
    "ó": "O",
    "ö": "O",
    "ő": "O",
    "ú": "U",
    "ü": "U",
    "ű": "U",
}


def _both_cases(letters: dict[str, str]) -> dict[str, str]:
    return letters | {letter.upper(): plain for letter, plain in letters.items()}


# Changing this map changes what the stored search columns hold: it needs a migration that
# removes and re-adds them (as 0003_search_folds_diacritics does), else old rows keep the old folding.
DIACRITIC_LETTERS = _both_cases(_ROMANIAN | _HUNGARIAN)
_PLAIN_LETTERS = str.maketrans(DIACRITIC_LETTERS)

# The name SQLite knows the folding by (registered on each connection by magflow.sqlite3).
SQLITE_FOLD_FUNCTION = "MAGFLOW_FOLD"


def fold(text: str | None) -> str | None:
    """Return the text with its Romanian and Hungarian diacritics dropped, upper-cased."""
    if text is None:
        return None
    return text.translate(_PLAIN_LETTERS).upper()
