"""App config of the finance side (基金财务)."""
from django.apps import AppConfig


class FinanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "finance"
    verbose_name = "基金财务"

    def ready(self):
        # a claim waiting for the bank in a payment batch cannot be returned (claims sits
        # below finance and does not know the batches)
        from claims import services as claims

        from .selectors.batches import claim_payment_hold

        if claim_payment_hold not in claims.PAYMENT_HOLDS:
            claims.PAYMENT_HOLDS.append(claim_payment_hold)
