"""Generate a deterministic catalogue of offers in eMAG's product_offer/read wire form.

The shapes and quirks follow docs/emag-api.md §4.1 and §4.2: prices as 4-decimal
strings or JSON numbers, validation statuses as lists, `ownership` as a boolean, optional keys
missing and undocumented keys present on some offers. Everything comes from `random.Random`
seeded with strings (seeded through SHA-512, so the output does not depend on PYTHONHASHSEED).
"""

import random
import unicodedata
from typing import Any, Literal, overload

from emag_sync.sandbox.romanian import (
    CATEGORIES,
    COLOURS,
    DESCRIPTION_SENTENCES,
    DOC_ERROR_MESSAGES,
    SAFETY_SENTENCES,
    Category,
)

DEFAULT_SEED = 42
# The predecessor's real catalogue sizes, so benchmarks page through a realistic volume.
DEFAULT_OFFER_COUNTS = {"main": 1274, "fbe": 1271}
DEFAULT_OFFER_COUNT = 50
# Share of an account's offers that sell products other accounts also sell (same part
# number and PNK, different seller id), like MAIN and FBE listing the same SKUs.
SHARED_PRODUCT_SHARE = 0.75

# Prices are kept as integers in ten-thousandths (eMAG's 4 decimals) so they never drift
# through float arithmetic; the multipliers convert the RON ranges of the categories.
PRICE_SCALE = 10_000
CURRENCY_PER_RON = {"RON": 1.0, "BGN": 0.393, "HUF": 78.6, "EUR": 0.201, "PLN": 0.86}
CURRENCY_BY_ACCOUNT = {"bg": "BGN", "hu": "HUF", "fdbg": "BGN"}
VAT_RATE_BY_CURRENCY = {"RON": 0.21, "BGN": 0.20, "HUF": 0.27}

VALIDATION_DESCRIPTIONS = {
    0: "Draft",
    1: "In MKTP validation",
    2: "Awaiting Brand validation",
    3: "Waiting for EAN approval",
    4: "New documentation validation pending",
    5: "Rejected Brand",
    6: "Invalid product - EAN rejected",
    8: "Documentation rejected",
    9: "Approved documentation",
    10: "Blocked",
    11: "Update awaiting approval",
    12: "Update rejected",
    13: "Waiting for salable offer",
    14: "Unsuccessful translation",
    15: "Translation in progress",
    16: "Translation pending",
    17: "Partial translation",
}
OFFER_VALIDATION_DESCRIPTIONS = {1: "Saleable", 2: "Invalid price"}
SUPPLY_LEAD_TIMES = (2, 3, 5, 7, 14, 30)
# eMAG's "Culoare" characteristic; the colour also ends up in the product name.
COLOUR_CHARACTERISTIC = 6506


def sandbox_credentials(account: str) -> tuple[str, str]:
    """Return the sandbox's own fixed (username, password) for an account.

    These open only the simulator; they are deliberately predictable so every process
    (tests, `make run`, benchmarks) can log in without sharing a secret.
    """
    return f"{account}@sandbox.local", f"sandbox-{account}-secret"


def default_offer_count(account: str) -> int:
    """Return how many offers an account gets when no size is configured."""
    return DEFAULT_OFFER_COUNTS.get(account, DEFAULT_OFFER_COUNT)


def default_currency(account: str) -> str:
    """Return the platform currency an account name suggests (RON unless it names BG/HU)."""
    return CURRENCY_BY_ACCOUNT.get(account, "RON")


@overload
def format_price(units: int, *, as_number: Literal[False] = False) -> str: ...
@overload
def format_price(units: int, *, as_number: bool) -> str | float: ...
def format_price(units: int, *, as_number: bool = False) -> str | float:
    """Render ten-thousandths as eMAG does: "42.0100", or a JSON number such as 51.6477.

    `units / PRICE_SCALE` is a correctly rounded division, so the float's shortest repr is
    exactly the 4-decimal value: clients parsing it through `str` lose nothing.
    """
    if as_number:
        return units / PRICE_SCALE
    return f"{units // PRICE_SCALE}.{units % PRICE_SCALE:04d}"


def net_units_from_gross(gross_cents: int, vat_rate: float) -> int:
    """Return the price without VAT, in ten-thousandths, of a shelf price in cents."""
    return round(gross_cents * 100 / (1 + vat_rate))


def generate_offers(
    account: str,
    count: int | None = None,
    seed: int = DEFAULT_SEED,
    *,
    currency: str | None = None,
) -> list[dict[str, Any]]:
    """Return `count` offers of an account in product_offer/read form, sorted by seller id."""
    count = default_offer_count(account) if count is None else count
    currency = currency or default_currency(account)
    # Seeded generator for simulated data, not security.
    rng = random.Random(f"{seed}:offers:{account}")  # nosec B311
    shared = round(count * SHARED_PRODUCT_SHARE)
    product_keys = [f"shared:{index}" for index in range(shared)]
    product_keys += [f"{account}:{index}" for index in range(count - shared)]
    rng.shuffle(product_keys)

    offers = []
    seller_id = rng.randint(1_000, 250_000)
    for product_key in product_keys:
        seller_id += rng.randint(1, 40)
        product = build_product(seed, product_key)
        offers.append(build_offer(product, seller_id=seller_id, rng=rng, currency=currency))
    return offers


def build_product(seed: int, product_key: str) -> dict[str, Any]:
    """Return the product-level data (shared by every seller of it) for a product key."""
    # Seeded generator for simulated data, not security.
    rng = random.Random(f"{seed}:product:{product_key}")  # nosec B311
    category = rng.choice(CATEGORIES)
    brand = rng.choice(category.brands)
    model = _model_code(rng)
    colour = rng.choice(COLOURS)
    noun_index = rng.randrange(len(category.nouns))
    if len(category.specs) == len(category.nouns):
        spec = category.specs[noun_index]
    else:
        spec = rng.choice(category.specs)
    name = f"{category.nouns[noun_index]} {brand} {model}, {spec}"
    if any(
        characteristic_id == COLOUR_CHARACTERISTIC
        for characteristic_id, _ in category.characteristics
    ):
        name += f", {colour}"
    pnk = _part_number_key(rng)
    eans = [_ean13(rng) for _ in range(rng.choices((0, 1, 2), weights=(12, 78, 10))[0])]
    low, high = category.price_range
    return {
        "key": product_key,
        "category": category,
        "brand": brand,
        "name": name,
        "part_number": model.lower() + "/a" if rng.random() < 0.1 else model,
        "part_number_key": pnk,
        "ean": eans,
        "description": _description(rng, name),
        "url": f"https://www.emag.ro/{_slug(name)}/pd/{pnk}/",
        "images": _images(rng, pnk),
        "characteristics": _characteristics(rng, category, colour),
        "family": _family(rng, brand, model),
        "gross_cents": rng.randint(low, high) * 100 + rng.choice((99, 90, 0, 49)),
        "safety_information": " ".join(rng.sample(SAFETY_SENTENCES, 2)),
    }


def build_offer(
    product: dict[str, Any], *, seller_id: int, rng: random.Random, currency: str
) -> dict[str, Any]:
    """Return one seller's offer of a product, with this seller's prices, stock and quirks."""
    category: Category = product["category"]
    vat_rate = VAT_RATE_BY_CURRENCY.get(currency, 0.21)
    gross = round(product["gross_cents"] * CURRENCY_PER_RON.get(currency, 1.0))
    sale = net_units_from_gross(max(gross * rng.randint(92, 108) // 100, 100), vat_rate)
    as_number = rng.random() < 0.15
    status = rng.choices((1, 0, 2), weights=(85, 10, 5))[0]
    general_stock = 0 if rng.random() < 0.15 else rng.randint(1, 250)
    validation = rng.choices((9, 11, 3, 1, 8, 12), weights=(78, 6, 5, 5, 4, 2))[0]
    offer_validation = 2 if rng.random() < 0.04 else 1
    number_of_offers = rng.randint(1, 12)

    offer: dict[str, Any] = {
        "id": seller_id,
        "category_id": category.id,
        "vendor_category_id": None if rng.random() < 0.7 else rng.randint(1, 400),
        "part_number_key": product["part_number_key"],
        "brand_name": product["brand"],
        "name": product["name"],
        "part_number": product["part_number"],
        "brand": product["brand"],
        "description": product["description"],
        "url": product["url"],
        "warranty": category.warranty_months,
        "vat_id": 1 if rng.random() < 0.95 else 2,
        "currency": currency,
        "status": status,
        "sale_price": format_price(sale, as_number=as_number),
        "recommended_price": format_price(sale * rng.randint(110, 140) // 100, as_number=as_number),
        "min_sale_price": format_price(sale * 80 // 100, as_number=as_number),
        "max_sale_price": format_price(sale * 150 // 100, as_number=as_number),
        "general_stock": general_stock,
        "estimated_stock": max(general_stock - rng.choice((0, 0, 0, 1, 2)), 0),
        "stock": [{"warehouse_id": 1, "value": general_stock}],
        "handling_time": [{"warehouse_id": 1, "value": rng.choice((0, 1, 1, 2, 3))}],
        "ean": list(product["ean"]),
        "images": [dict(image) for image in product["images"]],
        "characteristics": [dict(item) for item in product["characteristics"]],
        "family": dict(product["family"]) if product["family"] else None,
        "validation_status": [_validation_entry(validation, rng)],
        "translation_validation_status": [_validation_entry(rng.choice((9, 9, 17, 16)), rng)],
        "offer_validation_status": {
            "value": offer_validation,
            "description": OFFER_VALIDATION_DESCRIPTIONS[offer_validation],
        },
        "offer_details": {
            "id": rng.randint(30_000_000, 99_999_999),
            "warranty_type": 1,
            "supply_lead_time": rng.choice(SUPPLY_LEAD_TIMES),
            "emag_club": 1 if rng.random() < 0.8 else 0,
        },
        "number_of_offers": number_of_offers,
        # eMAG sends null when the offer is out of the buy-box race (inactive or no stock).
        "buy_button_rank": rng.randint(1, number_of_offers) if rng.random() < 0.8 else None,
        "best_offer_sale_price": format_price(
            sale * rng.randint(85, 100) // 100, as_number=as_number
        ),
        "best_offer_recommended_price": format_price(sale * 125 // 100, as_number=as_number),
        "ownership": rng.random() < 0.7,
        "genius_eligibility": int(rng.random() < 0.6),
        "genius_eligibility_type": rng.choice((1, 2, 3)),
        "genius_computed": rng.choice((0, 1, 1, 2, 3)),
        "manufacturer": rng.random() < 0.6,
        "eu_representative": rng.random() < 0.4,
        "safety_information": product["safety_information"],
        "doc_errors": _doc_errors(rng) if validation == 8 else None,
    }
    _apply_quirks(offer, rng)
    return offer


def _apply_quirks(offer: dict[str, Any], rng: random.Random) -> None:
    """Drop optional keys and add undocumented ones, as real responses vary per offer."""
    if rng.random() < 0.08:
        del offer["brand_name"]
    if rng.random() < 0.3:
        del offer["recommended_price"]
    if rng.random() < 0.05:
        del offer["min_sale_price"], offer["max_sale_price"]
    if rng.random() < 0.1:
        offer["rrp_guidelines"] = "RRP input possible"
    if rng.random() < 0.1:
        offer["auto_translated"] = 0
    if rng.random() < 0.07:
        offer["content_details"] = [{"source_language": "ro_RO", "content_type": "manual"}]
    if rng.random() < 0.05:
        offer.update(
            availability=[{"value": rng.choice((3, 5))}],
            start_date=[],
            attachments=[],
            commission=None,
            reversible_vat_charging=False,
            recyclewarranties=0,
            weight="0.000000",
        )


def _validation_entry(value: int, rng: random.Random) -> dict[str, Any]:
    errors: list[Any] | None = None
    if value in (5, 6, 8, 12):
        errors = [{"message": rng.choice(DOC_ERROR_MESSAGES)}]
    elif rng.random() < 0.5:
        errors = []
    return {"value": value, "description": VALIDATION_DESCRIPTIONS[value], "errors": errors}


def _doc_errors(rng: random.Random) -> dict[str, Any]:
    return {str(rng.randint(1000, 1099)): rng.choice(DOC_ERROR_MESSAGES)}


def _model_code(rng: random.Random) -> str:
    letters = "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXZ", k=rng.randint(2, 3)))
    digits = "".join(rng.choices("0123456789", k=rng.randint(3, 5)))
    suffix = "".join(rng.choices("ABCDEFGHKLMNPRSTWX", k=rng.choice((0, 1, 2, 3))))
    return f"{letters}{digits}{suffix}"


def _part_number_key(rng: random.Random) -> str:
    """Return a 9-character PNK; eMAG's always mix letters and digits."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    body = rng.choices(alphabet, k=6)
    return f"D{rng.choice('0123456789')}{''.join(body)}{rng.choice('BCDFGHJKLMNPRSTVWXYZ')}"


def _ean13(rng: random.Random) -> str:
    """Return a 13-digit EAN with Romania's GS1 prefix 594 and a valid check digit."""
    digits = "594" + "".join(rng.choices("0123456789", k=9))
    weighted = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(digits))
    return digits + str((10 - weighted % 10) % 10)


def _description(rng: random.Random, name: str) -> str:
    sentences = " ".join(rng.sample(DESCRIPTION_SENTENCES, 3))
    return f"<p><strong>{name}</strong></p><p>{sentences}</p>"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = "".join(char if char.isalnum() else " " for char in ascii_text.lower()).split()
    return "-".join(words)


def _images(rng: random.Random, pnk: str) -> list[dict[str, Any]]:
    folder = f"https://s13emagst.akamaized.net/products/{pnk.lower()}/images"
    return [
        {
            "url": f"{folder}/res_{rng.getrandbits(64):016x}.jpg",
            "display_type": 1 if index == 0 else rng.choice((2, 0)),
        }
        for index in range(rng.randint(1, 4))
    ]


def _characteristics(rng: random.Random, category: Category, colour: str) -> list[dict[str, Any]]:
    items = []
    for characteristic_id, values in category.characteristics:
        value = colour if characteristic_id == COLOUR_CHARACTERISTIC else rng.choice(values)
        items.append({"id": characteristic_id, "value": value})
    return items


def _family(rng: random.Random, brand: str, model: str) -> dict[str, Any] | None:
    if rng.random() < 0.7:
        return None
    return {
        "id": rng.randint(10_000, 900_000),
        "name": f"{brand} {model[:4]}",
        "family_type_id": 45,
    }
