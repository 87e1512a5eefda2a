from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

admin.site.site_header = settings.ADMIN_SITE_HEADER
admin.site.site_title = _("Xinsheng")
admin.site.index_title = _("Programme office")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("party/", include("partycells.urls")),
    path("", include("renovation.urls")),
    path("", include("residents.urls")),
]
