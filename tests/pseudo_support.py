"""A pseudo-locale built at test time, and a scanner for the English it leaves on a page.

Every msgid of our catalogues and of the third-party ones a seller sees (Django and its admin,
DRF, django-celery-beat, django-filter, import-export) gets a pseudo translation: its letters
accented, in brackets, placeholders and HTML kept (``"Sync %(name)s"`` becomes
``"⟦Ŝýñç %(name)s⟧"``). A page rendered in this language shows a string that was never
marked as plain English words, which `untranslated` finds among the page's visible texts.

The language is ``en-xa`` (the usual pseudo-locale code): Django accepts it as an English
variant, so a msgid missing from every catalogue falls back to its English source, never to
the default language's Romanian (which would hide it).
"""

import functools
import re
import tempfile
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

import django
import polib
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
PSEUDO = "en-xa"
PSEUDO_LOCALE = "en_XA"
PSEUDO_LANG_INFO = {"bidi": False, "code": PSEUDO, "name": "Pseudo", "name_local": "⟦Ƥšéúðó⟧"}
OPEN, CLOSE = "⟦", "⟧"
DOMAINS = ("django", "djangojs")

_PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ACCENTED = "àƀçðéƒĝĥíĵķļɱñóƥɋŕšţúʋŵẋýžÀƁÇÐÉƑĜĤÍĴĶĻṀÑÓƤɊŔŠŢÚṼŴẊÝŽ"
_TO_PSEUDO = str.maketrans(_PLAIN, _ACCENTED)
_FROM_PSEUDO = str.maketrans(_ACCENTED, _PLAIN)
# What a translation must keep as it is: printf and brace placeholders, HTML tags, entities.
KEPT = re.compile(
    r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[-#0 +]*\d*(?:\.\d+)?[sdifr%]"
    r"|\{[\w.!:\[\]]*\}|<[^<>]+>|&(?:\w+|#\d+);"
)


def pseudo(text: str) -> str:
    """Return `text` accented and bracketed, its placeholders, tags and entities unchanged."""
    pieces, position = [], 0
    for kept in KEPT.finditer(text):
        pieces.append(text[position : kept.start()].translate(_TO_PSEUDO))
        pieces.append(kept.group())
        position = kept.end()
    pieces.append(text[position:].translate(_TO_PSEUDO))
    return OPEN + "".join(pieces) + CLOSE


def english(text: str) -> str:
    """Undo `pseudo`: the English source of a pseudo text (brackets gone, letters plain)."""
    return text.replace(OPEN, "").replace(CLOSE, "").translate(_FROM_PSEUDO)


def _catalogue_files(locale_dir: Path, domain: str) -> list[Path]:
    """Return the catalogues of one domain that hold a package's msgids.

    English and Romanian (the seller's) where the package ships them, else every language it
    ships (django-celery-beat and import-export have neither).
    """
    found: dict[str, Path] = {}
    for language_dir in sorted(locale_dir.iterdir()):
        for suffix in (".mo", ".po"):  # the .po, when shipped, wins: it keeps untranslated ids
            path = language_dir / "LC_MESSAGES" / f"{domain}{suffix}"
            if path.exists():
                found[language_dir.name] = path
    preferred = [found[language] for language in ("en", "ro") if language in found]
    return preferred or list(found.values())


def source_catalogues() -> dict[str, list[Path]]:
    """Return, per domain, our catalogues and those of Django and the installed apps."""
    locale_dirs = [Path(django.__file__).parent / "conf" / "locale"]
    locale_dirs += [
        Path(config.path) / "locale"
        for config in apps.get_app_configs()
        if (Path(config.path) / "locale").is_dir() and config.name != "emag_sync"
    ]
    locale_dirs.append(ROOT / "locale")
    return {
        domain: [path for folder in locale_dirs for path in _catalogue_files(folder, domain)]
        for domain in DOMAINS
    }


def _pseudo_entries(paths: list[Path]) -> dict[tuple[str | None, str], polib.POEntry]:
    entries: dict[tuple[str | None, str], polib.POEntry] = {}
    for path in paths:
        catalogue = polib.mofile(str(path)) if path.suffix == ".mo" else polib.pofile(str(path))
        for entry in catalogue:
            if not entry.msgid or entry.obsolete or (entry.msgctxt, entry.msgid) in entries:
                continue
            made = polib.POEntry(msgctxt=entry.msgctxt, msgid=entry.msgid)
            if entry.msgid_plural:
                made.msgid_plural = entry.msgid_plural
                made.msgstr_plural = {0: pseudo(entry.msgid), 1: pseudo(entry.msgid_plural)}
            else:
                made.msgstr = pseudo(entry.msgid)
            entries[(entry.msgctxt, entry.msgid)] = made
    return entries


def pseudo_catalogue(domain: str) -> polib.POFile:
    """Return the pseudo translation of every msgid of `domain` in `source_catalogues()`."""
    catalogue = polib.POFile()
    catalogue.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Language": PSEUDO_LOCALE,
        "Plural-Forms": "nplurals=2; plural=(n != 1);",
    }
    catalogue.extend(_pseudo_entries(source_catalogues()[domain]).values())
    return catalogue


@functools.cache
def pseudo_locale_dir() -> Path:
    """Write the compiled pseudo catalogues once per test session; return their LOCALE_PATHS dir."""
    root = Path(tempfile.mkdtemp(prefix="magflow-pseudo-"))
    messages = root / PSEUDO_LOCALE / "LC_MESSAGES"
    messages.mkdir(parents=True)
    for domain in DOMAINS:
        pseudo_catalogue(domain).save_as_mofile(str(messages / f"{domain}.mo"))
    return root


def use_pseudo_locale(settings, monkeypatch) -> None:
    """Make the pseudo-locale the default language of this test (settings are restored after)."""
    from django.conf.locale import LANG_INFO

    monkeypatch.setitem(LANG_INFO, PSEUDO, PSEUDO_LANG_INFO)
    settings.LANGUAGES = [*settings.LANGUAGES, (PSEUDO, "Pseudo")]
    settings.LOCALE_PATHS = [pseudo_locale_dir(), *settings.LOCALE_PATHS]
    settings.LANGUAGE_CODE = PSEUDO


# --- What a page shows ------------------------------------------------------------------------

# Attributes a person reads (a button's value, a field's placeholder, a tooltip, a screen reader's
# label); a text field's value is what was typed or stored, so data.
READ_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
BUTTON_INPUTS = {"submit", "button", "reset"}
# Machine text by HTML's own meaning: code, keyboard input, program output.
MACHINE_TEXT = {"code", "kbd", "samp", "pre"}
UNSEEN = {"script", "style", "noscript"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


# Django's admin shows a boolean as an icon whose alt text is Python's True/False/None, in every
# language (django.contrib.admin.templatetags.admin_list._boolean_icon): not ours to mark.
BOOLEAN_ICON = re.compile(r"/admin/img/icon-(?:yes|no|unknown)\.svg$")


def _is_boolean_icon(src: str) -> bool:
    return bool(BOOLEAN_ICON.search(src))


class _VisibleTexts(HTMLParser):
    """Collect a page's texts and read attributes, skipping scripts and machine text.

    Text in another language than the page's (`lang` attribute, like the language switch
    naming each language in its own words) is skipped on purpose.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.page_language: str | None = None
        self._open: list[tuple[str, bool]] = []  # (tag, skips its content)

    def _skipping(self) -> bool:
        return any(skips for _, skips in self._open)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.page_language = attributes.get("lang")
        language = attributes.get("lang")
        foreign = tag != "html" and language is not None and language != self.page_language
        skips = tag in UNSEEN or tag in MACHINE_TEXT or foreign
        if not self._skipping() and not skips:
            for name in READ_ATTRIBUTES:
                if name == "alt" and _is_boolean_icon(attributes.get("src") or ""):
                    continue
                if attributes.get(name):
                    self.texts.append(attributes[name] or "")
            if tag == "input" and (attributes.get("type") or "").lower() in BUTTON_INPUTS:
                if attributes.get("value"):
                    self.texts.append(attributes["value"] or "")
        if tag not in VOID:
            self._open.append((tag, skips))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return

    def handle_data(self, data):
        if data.strip() and not self._skipping():
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    """Return the texts a person can read on an HTML page, whitespace collapsed."""
    parser = _VisibleTexts()
    parser.feed(html)
    parser.close()
    return [" ".join(text.split()) for text in parser.texts if text.strip()]


# The same texts in a browser, from what is rendered visible (options of a visible select too).
VISIBLE_TEXTS_JS = r"""() => {
  const page = document.documentElement.lang;
  const skipped = (element) => element.closest("script, style, noscript, code, kbd, samp, pre")
    || [...document.querySelectorAll("[lang]")].some(
      (other) => other !== document.documentElement && other.lang !== page && other.contains(element));
  const shown = (element) => element.tagName === "OPTION"
    ? (element.closest("select") || element).checkVisibility()
    : element.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (node.textContent.trim() && parent && shown(parent) && !skipped(parent)) {
      texts.push(node.textContent);
    }
  }
  for (const element of document.body.querySelectorAll("*")) {
    if (!shown(element) || skipped(element)) continue;
    for (const name of ["placeholder", "title", "aria-label", "alt"]) {
      if (name === "alt" && /\/admin\/img\/icon-(yes|no|unknown)\.svg$/.test(element.src)) continue;
      if (element.getAttribute(name)) texts.push(element.getAttribute(name));
    }
    if (element.tagName === "INPUT" && ["submit", "button", "reset"].includes(element.type)
        && element.value) texts.push(element.value);
  }
  texts.push(document.title);
  return texts.map((text) => text.replace(/\s+/g, " ").trim()).filter(Boolean);
}"""


def browser_texts(page) -> list[str]:
    """Return the texts a person can read on a Playwright page right now."""
    return page.evaluate(VISIBLE_TEXTS_JS)


# --- Which of them are English -----------------------------------------------------------------

# Names that stay as they are in every language: the product, the marketplace, the accounts,
# currencies, the time zone; and django-celery-beat's notation of a crontab's five fields,
# which it prints after each expression.
NAMES = {
    *("MagFlow eMAG Sync", "MagFlow", "eMAG", "MAIN", "FBE"),
    # eMAG's own order type names (FBS: fulfilled by the seller), the admin's id column,
    # and the millisecond unit: the same in Romanian.
    *("FBS", "ID", "ms"),
    *("RON", "EUR", "BGN", "HUF", "UTC"),
    "(m/h/dM/MY/d)",
}
# django-celery-beat shows these on the periodic task pages without marking them for
# translation (and cron-descriptor describes a crontab in English only): nothing this project
# can translate, so they are listed here, each by itself, rather than hidden by a rule.
THIRD_PARTY_UNMARKED = {"Task Name", "Scheduler", "Crontab translation"}
CRON_DESCRIPTION = re.compile(r"^(?:Translation: )?(?:At|Every) .* (?:UTC|Europe/\w+)$")
# A long name cut short for a list ("Laptop gaming HP …"): data when an exempt string starts so.
TRUNCATED = re.compile(r"([^⟦⟧]+)…")
# Data by its shape: URLs, e-mail addresses, dotted or snake_case identifiers (task paths,
# module names, enum values), time zone names, and any word with a digit in it (SKUs, ids, counts, dates).
DATA_SHAPES = re.compile(
    r"\b(?:https?://|www\.)\S+|(?<!\S)/\S*"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b\w+(?:[._]\w+)+\b|\b[A-Z][a-z]+/[A-Z][A-Za-z_]+\b"
    r"|\S*\d\S*"
)
WORD = re.compile(r"[A-Za-z]{2,}")


def english_words(text: str, exempt: Iterable[str] = ()) -> list[str]:
    """Return the English words of a visible text that neither a pseudo translation nor data
    explain.

    Data is exempt only as itself: each string of `exempt` (an offer's name, a customer's, a
    schedule's) is removed where it occurs whole and in the same case, so a label that merely
    shares a word with some offer name is still caught; then data shapes and `NAMES`.
    """
    if CRON_DESCRIPTION.match(text):
        return []
    exempt = frozenset(exempt)

    def drop_truncated_data(match: re.Match[str]) -> str:
        shown = match.group(1).strip()
        is_data = len(shown) >= 10 and any(item.startswith(shown) for item in exempt)
        return " " if is_data else match.group(0)

    text = TRUNCATED.sub(drop_truncated_data, text)
    text = _data_pattern(exempt).sub(" ", text)
    text = DATA_SHAPES.sub(" ", text)
    return WORD.findall(text)


@functools.lru_cache(maxsize=8)
def _data_pattern(exempt: frozenset[str]) -> re.Pattern[str]:
    """Compile the exempt strings and `NAMES` into one pattern, longest first, whole words."""
    shown_as_is = sorted(
        {item for item in [*exempt, *NAMES, *THIRD_PARTY_UNMARKED] if item.strip()},
        key=len,
        reverse=True,
    )
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, shown_as_is)) + r")(?!\w)")


def untranslated(texts: Iterable[str], exempt: Iterable[str] = ()) -> list[str]:
    """Return the texts (once each, in order) that still show English on a pseudo-locale page."""
    exempt = frozenset(item for item in exempt if item)
    found: list[str] = []
    for text in texts:
        if text not in found and english_words(text, exempt):
            found.append(text)
    return found


def findings(found: dict[str, list[str]]) -> str:
    """Return what `untranslated` found per page as lines a person can act on."""
    return "English on the pseudo-locale pages:\n" + "\n".join(
        f"{page} — {text}" for page, texts in found.items() for text in texts
    )
