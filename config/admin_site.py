"""The admin site: Django's, without the navigation sidebar.

The sidebar listed every model the user may open on every admin page, checking each
model's permissions and reversing its addresses to do so: a quarter of a request list's
time at city scale. The same list is the admin's home page, one click away in the
breadcrumbs of every page."""

from functools import partial

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.utils.functional import SimpleLazyObject


class AdminSite(admin.AdminSite):
    enable_nav_sidebar = False

    def get_app_list(self, request, app_label=None):
        # Built when a page shows it (the home page, an app's page), not for the context
        # of every page, which without the sidebar no other page uses.
        return SimpleLazyObject(partial(super().get_app_list, request, app_label))


class AdminConfig(DjangoAdminConfig):
    default_site = "config.admin_site.AdminSite"
