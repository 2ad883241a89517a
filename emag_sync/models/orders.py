"""Orders as eMAG returns them (docs/emag-api.md §5.4), their lines and status history."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .fields import account_column, content_hash_column, payload_column, read_warnings_column
from .offers import MONEY, Offer
from .runs import sync_run_link
from .search import Folded


class OrderStatus(models.IntegerChoices):
    """eMAG's order statuses (docs/emag-api.md §5.1)."""

    CANCELLED = 0, _("Cancelled")
    NEW = 1, _("New")
    IN_PROGRESS = 2, _("In progress")
    PREPARED = 3, _("Prepared")
    FINALIZED = 4, _("Finalized")
    RETURNED = 5, _("Returned")


class OrderType(models.IntegerChoices):
    FULFILLED_BY_EMAG = 2, _("Fulfilled by eMAG (FBE)")
    FULFILLED_BY_SELLER = 3, _("Fulfilled by seller (FBS)")


class PaymentMode(models.IntegerChoices):
    CASH_ON_DELIVERY = 1, _("Cash on delivery")
    BANK_TRANSFER = 2, _("Bank transfer")
    CARD_ONLINE = 3, _("Card online")


# eMAG's cancellation reasons (the order field table of v4.4.9, docs/emag-api.md §5.4), for an
# order whose `reason_cancellation` comes as a bare number rather than `{id, name}`.
CANCELLATION_REASONS: dict[int, str] = {
    1: "Out of stock",
    2: "Cancelled by the client",
    3: "The client can not be contacted",
    15: "Courier delivery term is too large",
    16: "Transport tax is too large",
    17: "Large delivery term, until the product will arrive in our warehouse",
    18: "Better offer in another store",
    19: "Payment order has not been paid",
    20: "Undelivered order, courier reasons",
    21: "Others",
    22: "Order incomplete - automatic cancellation",
    23: "The customer changed his mind",
    24: "By customer request",
    25: "Failed delivery",
    26: "Late shipment",
    27: "Irrelevant order",
    28: "Cancelled by SuperAdmin on seller request",
    29: "Blacklisted customer",
    30: "No VAT invoice",
    31: "The eMAG Marketplace partner requested the order cancellation",
    32: "The delivery estimate is too long",
    33: "The product is no longer in the partner's stock",
    34: "Other reasons",
    35: "The delivery is too expensive",
    36: "The customer found a better price elsewhere",
    37: "The customer registered another eMAG order with a similar product",
    38: "The customer changed his mind, does not need the product",
    39: "The customer can purchase the product only by installments",
    40: "Other reasons EIS",
    41: "Out of stock - instalments",
    42: "The product is no longer in the partner's stock - instalments",
    43: "The delivery estimate is too long",
}


class StatusChangeSource(models.TextChoices):
    SYNC = "sync", _("Seen by a sync")
    ACKNOWLEDGE = "acknowledge", _("Acknowledged here")


class Order(models.Model):
    """One eMAG order of one account, as eMAG last returned it.

    eMAG's dates carry no zone: they are read in the account's time zone and stored as
    aware UTC. An ambiguous local time (the hour repeated when daylight saving ends) is
    read as its first occurrence, so it can be an hour early but never late.

    Totals are computed from the payload, in the order's currency, exactly (Decimal, 4
    places, each line's VAT rounded half-up to 4 places), from eMAG's documented meanings
    (docs/emag-api.md §5.4): a line's `sale_price` excludes VAT, the shipping tax includes it, and
    a voucher's `sale_price` is its value without VAT and its `sale_price_vat` the VAT on it:

    - `total_lines_net`: Σ sale_price × quantity over active lines (line status 1);
    - `total_lines_vat`: Σ sale_price × quantity × the line's VAT rate, over the same lines;
    - `total_shipping`: `shipping_tax`, VAT included;
    - `total_vouchers`: Σ (`sale_price` + `sale_price_vat`) of the vouchers not marked
      inactive (negative); their splits over lines and shipping (`product_voucher_split`,
      `shipping_tax_voucher_split`) are a breakdown of the same amounts, not added again;
    - `total`: what the customer pays: lines net + lines VAT + shipping + vouchers.

    Only the id identifies an order: a field eMAG sent in a shape that cannot be read is
    left empty, and why is listed in `read_warnings` (the payload is kept whole in `raw`).
    """

    account = account_column()
    emag_id = models.BigIntegerField(
        _("order id on eMAG"), help_text=_("eMAG order id (`id`); beyond 32 bits.")
    )
    status = models.SmallIntegerField(
        _("status"),
        choices=OrderStatus.choices,
        null=True,
        blank=True,
        help_text=_("Empty: eMAG sent none."),
    )
    type = models.SmallIntegerField(
        _("type"),
        choices=OrderType.choices,
        null=True,
        blank=True,
        help_text=_("As eMAG sent it, else the type the order was read with."),
    )
    is_complete = models.BooleanField(_("complete"), null=True, blank=True)

    payment_mode_id = models.SmallIntegerField(
        _("payment mode"), choices=PaymentMode.choices, null=True, blank=True
    )
    payment_mode = models.CharField(
        _("payment mode name"), max_length=64, blank=True, help_text=_('e.g. "RAMBURS".')
    )
    detailed_payment_method = models.CharField(
        _("detailed payment method"), max_length=128, blank=True
    )
    payment_status = models.SmallIntegerField(
        _("payment status"),
        null=True,
        blank=True,
        help_text=_("1 paid; for cash on delivery 0 until eMAG has the cash."),
    )
    cashed_co = models.DecimalField(_("cashed by card"), **MONEY, null=True, blank=True)
    cashed_cod = models.DecimalField(_("cashed on delivery"), **MONEY, null=True, blank=True)
    refunded_amount = models.DecimalField(_("refunded amount"), **MONEY, null=True, blank=True)
    refund_status = models.CharField(_("refund status"), max_length=64, blank=True)
    cancellation_request = models.JSONField(
        _("cancellation request"),
        null=True,
        blank=True,
        help_text=_("The customer's cancellation request, as eMAG sent it."),
    )

    delivery_mode = models.CharField(
        _("delivery mode"), max_length=32, blank=True, help_text=_("courier or pickup.")
    )
    details = models.JSONField(
        _("delivery details"), null=True, blank=True, help_text=_("Locker and courier office.")
    )
    locker_id = models.CharField(_("locker id"), max_length=64, blank=True)
    locker_name = models.CharField(_("locker name"), max_length=255, blank=True)

    date = models.DateTimeField(
        _("date"), null=True, blank=True, help_text=_("When the cart was submitted.")
    )
    modified = models.DateTimeField(
        _("modified on eMAG"), null=True, blank=True, help_text=_("eMAG's last change.")
    )
    maximum_date_for_shipment = models.DateTimeField(_("ship by"), null=True, blank=True)
    finalization_date = models.DateTimeField(_("finalization date"), null=True, blank=True)

    shipping_tax = models.DecimalField(
        _("shipping tax"), **MONEY, null=True, blank=True, help_text=_("VAT included.")
    )
    shipping_tax_voucher_split = models.JSONField(
        _("shipping voucher split"), default=list, blank=True
    )
    vouchers = models.JSONField(_("vouchers"), default=list, blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    enforced_vendor_courier_accounts = models.JSONField(
        _("enforced courier accounts"), null=True, blank=True
    )
    is_storno = models.BooleanField(_("reversed (storno)"), default=False)
    reason_cancellation = models.SmallIntegerField(
        _("cancellation reason id"), null=True, blank=True
    )
    reason_cancellation_name = models.CharField(
        _("cancellation reason"),
        max_length=255,
        blank=True,
        help_text=_("eMAG's name of the reason, else the documented one."),
    )
    observation = models.TextField(_("observation"), blank=True)

    customer = models.JSONField(
        _("customer"), default=dict, blank=True, help_text=_("Customer and addresses.")
    )
    customer_name = models.CharField(_("customer name"), max_length=255, blank=True)
    # Folded (diacritics dropped, upper-cased) by the database on every write, for the
    # customer search (its trigram index: migration 0002_postgresql).
    customer_name_search = models.GeneratedField(
        expression=Folded("customer_name"), output_field=models.TextField(), db_persist=True
    )

    total_lines_net = models.DecimalField(_("lines without VAT"), **MONEY, default=0)
    total_lines_vat = models.DecimalField(_("lines VAT"), **MONEY, default=0)
    total_shipping = models.DecimalField(_("shipping"), **MONEY, default=0)
    total_vouchers = models.DecimalField(_("vouchers total"), **MONEY, default=0)
    total = models.DecimalField(_("total"), **MONEY, default=0)
    currency = models.CharField(
        _("currency"),
        max_length=3,
        blank=True,
        help_text=_("The order's currency, else its lines'."),
    )
    read_warnings = read_warnings_column()

    raw = payload_column()
    content_hash = content_hash_column()
    synced_at = models.DateTimeField(
        _("synced at"), help_text=_("When eMAG's content last changed here.")
    )
    first_seen_at = models.DateTimeField(_("first seen"))
    acknowledged_at = models.DateTimeField(
        _("acknowledged at"),
        null=True,
        blank=True,
        help_text=_("When this app acknowledged the order on eMAG."),
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-date", "-emag_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "emag_id"], name="uniq_order_account_emag_id"
            )
        ]
        indexes = [
            models.Index(fields=["account", "status"], name="order_account_status"),
            models.Index(fields=["type"], name="order_type"),
            models.Index(fields=["date"], name="order_date"),
            models.Index(fields=["modified"], name="order_modified"),
        ]

    def __str__(self) -> str:
        return gettext("%(account)s order %(id)s") % {
            "account": self.account.upper(),
            "id": self.emag_id,
        }


class OrderLine(models.Model):
    """One product line of an order, linked to the local offer with the same seller id."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines"
    )
    account = models.CharField(_("account"), max_length=32)
    emag_line_id = models.BigIntegerField(
        _("line id on eMAG"), null=True, blank=True, help_text=_("eMAG line `id`.")
    )
    product_id = models.BigIntegerField(
        _("product id"),
        null=True,
        blank=True,
        help_text=_("The seller's product id (an offer's `emag_id`)."),
    )
    offer = models.ForeignKey(
        Offer,
        null=True,
        blank=True,
        verbose_name=_("offer"),
        on_delete=models.SET_NULL,
        related_name="order_lines",
    )
    part_number_key = models.CharField(_("PNK"), max_length=32, blank=True)
    ext_part_number = models.CharField(_("SKU"), max_length=64, blank=True)
    name = models.TextField(_("name"), blank=True)
    quantity = models.IntegerField(_("quantity"), default=0)
    initial_quantity = models.IntegerField(_("initial quantity"), null=True, blank=True)
    storno_quantity = models.IntegerField(_("reversed quantity"), null=True, blank=True)
    sale_price = models.DecimalField(
        _("sale price"), **MONEY, null=True, blank=True, help_text=_("Without VAT.")
    )
    original_price = models.DecimalField(_("original price"), **MONEY, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    vat_rate = models.DecimalField(
        _("VAT rate"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("0.2100 is 21%."),
    )
    status = models.SmallIntegerField(_("status"), default=1, help_text=_("1 active, 0 removed."))
    product_voucher_split = models.JSONField(_("voucher split"), default=list, blank=True)
    raw = models.JSONField(_("raw payload"), default=dict)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "id"]
        indexes = [
            models.Index(fields=["account", "product_id"], name="orderline_account_product"),
        ]

    def __str__(self) -> str:
        return f"{self.ext_part_number or self.product_id} x {self.quantity}"


class OrderStatusChange(models.Model):
    """A status an order moved to, as a sync saw it or as this app made it."""

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.SmallIntegerField(
        _("from status"),
        choices=OrderStatus.choices,
        null=True,
        blank=True,
        help_text=_("Empty: first seen."),
    )
    to_status = models.SmallIntegerField(_("to status"), choices=OrderStatus.choices)
    changed_at = models.DateTimeField(
        _("changed at"), help_text=_("eMAG's `modified` time of the change.")
    )
    source = models.CharField(_("source"), max_length=16, choices=StatusChangeSource.choices)
    run = sync_run_link("order_status_changes")
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("order status change")
        verbose_name_plural = _("order status changes")
        ordering = ["order", "changed_at", "id"]
        indexes = [
            models.Index(fields=["order", "changed_at"], name="orderstatus_order_time"),
        ]

    def __str__(self) -> str:
        before = "—" if self.from_status is None else self.from_status
        return f"{self.order_id}: {before} → {self.to_status} ({self.get_source_display()})"
