"""The base of our ModelAdmin mixins: ModelAdmin for the type checker, nothing at runtime.

A mixin calls ModelAdmin's methods and reads its attributes (`self.opts`, `super().get_urls()`);
deriving it from ModelAdmin only while type checking lets mypy check those uses without
changing the classes' method resolution order.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    ModelAdminMixin = ModelAdmin[Any]
else:
    ModelAdminMixin = object
