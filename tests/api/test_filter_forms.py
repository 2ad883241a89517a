"""The API's FilterSets build their form class once; every request still validates alone."""

from django.http import QueryDict

from emag_sync.api.filters import OfferFilter, OrderFilter, SyncRunFilter
from emag_sync.models import Offer, Order, SyncRun


def offer_filter(query: str) -> OfferFilter:
    return OfferFilter(QueryDict(query), queryset=Offer.objects.all())


def test_requests_share_one_form_class_but_each_gets_its_own_fields_and_errors():
    bad, good = offer_filter("status=9&price_min=x"), offer_filter("status=1&price_min=10")

    assert type(bad.form) is type(good.form)
    assert bad.form.fields["status"] is not good.form.fields["status"]
    assert not bad.is_valid()
    assert set(bad.errors) == {"status", "price_min"}
    assert good.is_valid()
    assert offer_filter("").is_valid()


def test_each_filterset_has_a_form_class_of_its_own():
    forms = {
        type(OfferFilter(QueryDict(), queryset=Offer.objects.all()).form),
        type(OrderFilter(QueryDict(), queryset=Order.objects.all()).form),
        type(SyncRunFilter(QueryDict(), queryset=SyncRun.objects.all()).form),
    }

    assert len(forms) == 3
    assert "search" in OrderFilter(QueryDict(), queryset=Order.objects.all()).form.fields
    assert "mode" in SyncRunFilter(QueryDict(), queryset=SyncRun.objects.all()).form.fields
