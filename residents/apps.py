from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "residents"
    verbose_name = _("Residents")

    def ready(self):
        from renovation.phones import FULL_NUMBER_RULES

        from .selectors import sees_every_full_phone

        FULL_NUMBER_RULES["residents.residentrequest"] = sees_every_full_phone
