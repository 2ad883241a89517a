"""Search keys: text folded so that neither case nor diacritics decide whether words match.

Sellers and their customers often type without diacritics (`cafetiera`, `masina de spalat`)
and old data carries the cedilla forms of ș and ț (ş, ţ). A search compares a folded copy of
the text, stored by the database on every write, with the term folded by the same database
expression, so both sides agree letter for letter on PostgreSQL and on SQLite alike.
"""

from django.db.models import Func, TextField, Value
from django.db.models.functions import Upper

from emag_sync.folding import DIACRITIC_LETTERS, SQLITE_FOLD_FUNCTION


class Folded(Func):
    """Text with its diacritics dropped, upper-cased: `Cafetieră`, `cafetiera` → `CAFETIERA`.

    On PostgreSQL TRANSLATE and UPPER, both immutable (`unaccent` is only STABLE), so it can
    feed a stored generated column and its trigram index. SQLite has no TRANSLATE, its UPPER
    folds ASCII only and its parser refuses a REPLACE nested per letter, so there it calls
    emag_sync.folding.fold, registered on every connection (magflow.sqlite3).
    """

    arity = 1
    function = SQLITE_FOLD_FUNCTION
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        (text,) = self.get_source_expressions()
        translated = Func(
            text,
            Value("".join(DIACRITIC_LETTERS)),
            Value("".join(DIACRITIC_LETTERS.values())),
            function="TRANSLATE",
            output_field=TextField(),
        )
        return compiler.compile(Upper(translated))
