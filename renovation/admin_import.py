"""The admin page where staff import the compound registry from Excel."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from . import services
from .access import ADD, has_permission
from .forms import RegistryImportForm
from .models import Compound


def registry_import_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    if not has_permission(request.user, Compound, ADD):
        raise PermissionDenied
    form = RegistryImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = services.registry_import(
            file=form.cleaned_data["file"],
            user=request.user,
            dry_run=form.cleaned_data["dry_run"],
        )
        if result.ok and not result.dry_run and not result.warnings:
            messages.success(request, result.summary())
            return redirect("admin:renovation_compound_changelist")
        if result.ok and not result.dry_run:
            # Saved, but staff should read the warnings here; the form is for the next file.
            form = RegistryImportForm()
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Import compounds from Excel"),
        "form": form,
        "result": result,
    }
    return TemplateResponse(request, "admin/renovation/compound/import.html", context)
