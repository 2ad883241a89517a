"""Romanian word lists the sandbox draws its catalogue and customers from.

Kept apart from the generators so the data can grow without hiding the logic. Names carry
the diacritics real listings use (ă â î ș ț), because clients must store and search them.
"""

from dataclasses import dataclass


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


CATEGORIES: tuple[Category, ...] = (
    Category(
        id=506,
        name="Mașini de spălat rufe",
        nouns=("Mașină de spălat rufe", "Mașină de spălat rufe cu uscător"),
        brands=("Arctic", "Beko", "Samsung", "Whirlpool", "Bosch", "Gorenje"),
        specs=("7 kg, 1200 RPM, Clasa E", "8 kg, 1400 RPM, Clasa B", "9 kg, Inverter, Clasa A"),
        characteristics=((6506, ("Alb", "Argintiu", "Negru")), (7104, ("7 kg", "8 kg", "9 kg"))),
        price_range=(1100, 3600),
        warranty_months=24,
    ),
    Category(
        id=2173,
        name="Telefoane mobile",
        nouns=("Telefon mobil", "Smartphone"),
        brands=("Samsung", "Apple", "Xiaomi", "Motorola", "Nokia", "OnePlus"),
        specs=("Dual SIM, 128GB, 5G", "256GB, 8GB RAM, 5G", "64GB, 4GB RAM, 4G"),
        characteristics=(
            (6506, ("Negru", "Albastru", "Verde mentă")),
            (8520, ("128 GB", "256 GB")),
        ),
        price_range=(450, 5800),
        warranty_months=24,
    ),
    Category(
        id=1127,
        name="Laptopuri",
        nouns=("Laptop", "Laptop gaming", "Ultrabook"),
        brands=("Lenovo", "ASUS", "HP", "Acer", "Dell", "MSI"),
        specs=('15.6", Intel Core i5, 16GB, 512GB SSD', '14", AMD Ryzen 7, 16GB, 1TB SSD'),
        characteristics=((6506, ("Gri", "Argintiu", "Negru")), (9012, ("16 GB", "32 GB"))),
        price_range=(1900, 7900),
        warranty_months=24,
    ),
    Category(
        id=3365,
        name="Aspiratoare",
        nouns=("Aspirator vertical", "Aspirator robot", "Aspirator fără sac"),
        brands=("Rowenta", "Dyson", "Philips", "Electrolux", "Karcher"),
        specs=("autonomie 45 minute", "cu funcție de mop", "putere 900 W, filtru HEPA"),
        characteristics=((6506, ("Roșu", "Gri", "Albastru")), (7731, ("HEPA", "Ciclonic"))),
        price_range=(280, 2900),
        warranty_months=24,
    ),
    Category(
        id=2044,
        name="Scule electrice",
        nouns=("Mașină de înșurubat", "Polizor unghiular", "Ciocan rotopercutor", "Fierăstrău"),
        brands=("DeWALT", "Bosch Professional", "Makita", "Einhell", "Stanley"),
        specs=(
            "18 V, 2 acumulatori, trusă",
            "850 W, disc 125 mm",
            "SDS-Plus, 800 W",
            "lamă 190 mm, 1400 W",
        ),
        characteristics=((7811, ("Cu acumulator", "Cu fir")), (7812, ("18 V", "230 V"))),
        price_range=(150, 1900),
        warranty_months=36,
    ),
    Category(
        id=4410,
        name="Cafetiere și espressoare",
        nouns=("Espressor automat", "Espressor manual", "Cafetieră"),
        brands=("De'Longhi", "Philips", "Krups", "Tchibo", "Heinner"),
        specs=("15 bari, râșniță încorporată", "15 bari, cu spumare lapte", "1000 W, 10 căni"),
        characteristics=((6506, ("Negru", "Inox", "Alb")), (7420, ("15 bar", "19 bar"))),
        price_range=(120, 3400),
        warranty_months=24,
    ),
    Category(
        id=5120,
        name="Jucării",
        nouns=("Set de construcție", "Mașinuță teleghidată", "Păpușă", "Joc de societate"),
        brands=("LEGO", "Hasbro", "Mattel", "Ravensburger", "Noriel"),
        specs=("1.024 piese", "vârsta 6+ ani", "vârsta 3+ ani", "pentru 2-4 jucători"),
        characteristics=((9901, ("Băieți", "Fete", "Unisex")), (9902, ("3+ ani", "6+ ani"))),
        price_range=(35, 950),
        warranty_months=0,
    ),
    Category(
        id=6230,
        name="Îngrijire personală",
        nouns=("Aparat de ras", "Uscător de păr", "Placă de îndreptat părul", "Periuță electrică"),
        brands=("Braun", "Philips", "Remington", "Oral-B", "Rowenta"),
        specs=("cu 3 capete", "2200 W, ionizare", "plăci ceramice, 230°C", "autonomie 2 săptămâni"),
        characteristics=((6506, ("Negru", "Roz", "Alb")), (7055, ("Acumulator", "Rețea"))),
        price_range=(60, 1300),
        warranty_months=24,
    ),
    Category(
        id=7302,
        name="Articole sportive",
        nouns=("Bicicletă de munte", "Bandă de alergat", "Set gantere", "Trotinetă electrică"),
        brands=("Decathlon", "Kettler", "Xiaomi", "DHS", "Spartan"),
        specs=(
            "roți 29 inch, 21 viteze",
            "motor 2.5 CP, pliabilă",
            "20 kg, ajustabile",
            "autonomie 30 km, 350 W",
        ),
        characteristics=((6506, ("Negru", "Roșu", "Verde")), (9310, ("Adulți", "Copii"))),
        price_range=(90, 4200),
        warranty_months=24,
    ),
    Category(
        id=8840,
        name="Produse pentru grădină",
        nouns=("Mașină de tuns iarba", "Motocoasă", "Furtun de grădină", "Grătar pe cărbuni"),
        brands=("Stihl", "Gardena", "Einhell", "Husqvarna", "Ruris"),
        specs=(
            "1600 W, lățime 38 cm",
            "benzină, 1.2 CP",
            "30 m, cu pistol",
            "grătar 57 cm, cu capac",
        ),
        characteristics=(
            (7811, ("Electrică", "Benzină", "Manuală")),
            (8841, ("Verde", "Portocaliu")),
        ),
        price_range=(45, 2800),
        warranty_months=24,
    ),
    Category(
        id=9105,
        name="Televizoare",
        nouns=("Televizor LED", "Televizor OLED", "Televizor QLED"),
        brands=("Samsung", "LG", "Sony", "Philips", "TCL", "Horizon"),
        specs=('55", 4K Ultra HD, Smart TV', '43", Full HD, Smart TV', '65", 4K, HDR10+'),
        characteristics=((9106, ("108 cm", "139 cm", "164 cm")), (9107, ("4K", "Full HD"))),
        price_range=(900, 9900),
        warranty_months=24,
    ),
    Category(
        id=2511,
        name="Cărți",
        nouns=("Carte", "Roman", "Manual"),
        brands=("Humanitas", "Polirom", "Nemira", "Litera", "Art"),
        specs=("ediție cartonată", "ediția a II-a", "352 pagini"),
        characteristics=((9501, ("Română", "Engleză")), (9502, ("Cartonată", "Broșată"))),
        price_range=(18, 160),
        warranty_months=0,
    ),
)

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
