from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartycellsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "partycells"
    verbose_name = _("Party cells")
