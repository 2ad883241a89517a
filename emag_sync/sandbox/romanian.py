"""Romanian word lists the sandbox draws its catalogue and customers from.

Kept apart from the generators so the data can grow without hiding the logic. Names carry
the diacritics real listings use (ă â î ș ț), because clients must store and search them.
"""

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Category:
    """One eMAG category: what its products are called, who makes them, what they cost."""

    id: int
    name: str
    nouns: tuple[str, ...]
    brands: tuple[str, ...]
    # When there are as many specs as nouns, spec i describes noun i; otherwise any noun.
    specs: tuple[str, ...]
    # (characteristic id, possible values): eMAG characteristics are id/value pairs.
    characteristics: tuple[tuple[int, tuple[str, ...]], ...]
    # Sale price range in RON without VAT; other currencies are converted from it.
    price_range: tuple[int, int]
    warranty_months: int


def _categories_from(path: Path) -> tuple[Category, ...]:
    """Read the catalogue's categories from their JSON file, lists turned into tuples."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        Category(
            id=row["id"],
            name=row["name"],
            nouns=tuple(row["nouns"]),
            brands=tuple(row["brands"]),
            specs=tuple(row["specs"]),
            characteristics=tuple((key, tuple(values)) for key, values in row["characteristics"]),
            price_range=(row["price_range"][0], row["price_range"][1]),
            warranty_months=row["warranty_months"],
        )
        for row in rows
    )


# Data, not code: the categories live in a JSON file so a new one is added without touching logic.
CATEGORIES = _categories_from(Path(__file__).with_name("categories.json"))

COLOURS = ("Negru", "Alb", "Gri", "Albastru", "Roșu", "Verde", "Argintiu", "Bej")

# Words stitched into descriptions; each sentence reads as a plausible listing line.
DESCRIPTION_SENTENCES = (
    "Produsul este nou, sigilat, cu garanție de la producător.",
    "Design modern și finisaje de calitate, potrivit pentru utilizarea zilnică.",
    "Consum redus de energie și funcționare silențioasă.",
    "Livrare rapidă în toată țara; factura se emite pe firmă sau persoană fizică.",
    "Ușor de curățat și de întreținut.",
    "Pachetul include manual de utilizare în limba română.",
    "Compatibil cu accesoriile originale ale mărcii.",
    "Ideal ca idee de cadou pentru cei dragi.",
    "Materiale rezistente, testate în condiții de utilizare intensă.",
)

SAFETY_SENTENCES = (
    "A nu se lăsa la îndemâna copiilor.",
    "Citiți instrucțiunile înainte de utilizare.",
    "Deconectați aparatul de la rețea înainte de curățare.",
    "Nu expuneți produsul la umezeală sau la temperaturi ridicate.",
)

DOC_ERROR_MESSAGES = (
    "Imaginea principală nu are fundal alb.",
    "Titlul conține informații promoționale.",
    "Caracteristica obligatorie «Culoare» lipsește.",
    "Codul EAN nu corespunde produsului.",
)

FIRST_NAMES = (
    "Andrei",
    "Ioana",
    "Mihai",
    "Elena",
    "Ștefan",
    "Alexandra",
    "Cătălin",
    "Mădălina",
    "Răzvan",
    "Iulia",
    "Bogdan",
    "Cristina",
    "Tudor",
    "Ana-Maria",
    "Dănuț",
    "Irina",
    "Sorin",
    "Gabriela",
    "Costel",
    "Loredana",
    "Vlad",
    "Bianca",
    "Ionuț",
    "Raluca",
)

LAST_NAMES = (
    "Popescu",
    "Ionescu",
    "Popa",
    "Stan",
    "Dumitrescu",
    "Stoica",
    "Gheorghiu",
    "Munteanu",
    "Constantinescu",
    "Țurcanu",
    "Dobrescu",
    "Răducanu",
    "Șerban",
    "Băluță",
    "Moldovan",
    "Nistor",
    "Vlăduț",
    "Cojocaru",
    "Tănase",
    "Bălan",
)

# (city, county, postal code prefix, eMAG locality id)
LOCALITIES = (
    ("București", "Sector 3", "03", 8801),
    ("București", "Sector 6", "06", 8804),
    ("Cluj-Napoca", "Cluj", "40", 4514),
    ("Iași", "Iași", "70", 7032),
    ("Timișoara", "Timiș", "30", 11289),
    ("Constanța", "Constanța", "90", 5220),
    ("Brașov", "Brașov", "50", 2861),
    ("Craiova", "Dolj", "20", 6124),
    ("Galați", "Galați", "80", 6612),
    ("Ploiești", "Prahova", "10", 9702),
    ("Oradea", "Bihor", "41", 1732),
    ("Sibiu", "Sibiu", "55", 10517),
    ("Târgu Mureș", "Mureș", "54", 8437),
    ("Suceava", "Suceava", "72", 10859),
    ("Pitești", "Argeș", "11", 925),
)

STREETS = (
    "Str. Mihai Eminescu",
    "Bd. Ștefan cel Mare",
    "Str. Avram Iancu",
    "Calea Victoriei",
    "Str. Nicolae Bălcescu",
    "Bd. Independenței",
    "Str. Tudor Vladimirescu",
    "Aleea Trandafirilor",
    "Str. Gării",
    "Șos. Pantelimon",
    "Str. Republicii",
    "Bd. Unirii",
)

COMPANY_WORDS = (
    "Construct",
    "Agro",
    "Tehnic",
    "Comerț",
    "Service",
    "Logistic",
    "Design",
    "Mobila",
)

BANKS = ("Banca Transilvania", "BCR", "ING Bank", "BRD", "Raiffeisen Bank", "CEC Bank")

LOCKER_NAMES = (
    "easybox Kaufland",
    "easybox Lidl",
    "easybox Mega Image",
    "easybox Profi",
    "easybox OMV",
)

COURIERS = ("Sameday", "Cargus", "FAN Courier", "DPD")

# Cancellation reasons of docs/emag-api.md §5.4 the sandbox picks from: out of stock, by client,
# customer request, partner request, better price elsewhere.
CANCELLATION_REASONS = (1, 2, 24, 31, 36)
