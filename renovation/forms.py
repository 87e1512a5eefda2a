from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from residents.selectors import willingness_rates

from .models import (
    Disbursement,
    FundingAllocation,
    FundingSource,
    ProjectStatus,
    RenovationProject,
    StaffProfile,
)
from .phones import PhoneField
from .progress_import import default_as_of
from .services.funding import (
    check_allocation_fits,
    check_payment_fits,
    check_source_amount,
    clean_amount,
)

XLSX_ACCEPT = ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RegistryImportForm(forms.Form):
    file = forms.FileField(
        label=_("Excel workbook (.xlsx)"),
        help_text=_(
            "The compound sheet, and optionally a second sheet listing buildings by compound "
            "name. Download the template for the accepted columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": XLSX_ACCEPT}),
    )
    dry_run = forms.BooleanField(
        label=_("Check only: show what would be imported, save nothing"), required=False
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        # Only the name is checked here; the import itself refuses a renamed non-workbook.
        if not file.name.lower().endswith(".xlsx"):
            raise ValidationError(
                _("Upload an Excel workbook ending in .xlsx; “%(name)s” is not one."),
                code="extension",
                params={"name": file.name},
            )
        if file.size > settings.REGISTRY_IMPORT_MAX_BYTES:
            raise ValidationError(
                _("The file is %(size)s; the largest accepted is %(limit)s."),
                code="size",
                params={
                    "size": filesizeformat(file.size),
                    "limit": filesizeformat(settings.REGISTRY_IMPORT_MAX_BYTES),
                },
            )
        return file


MONEY_FIELD = {"max_digits": 14, "decimal_places": 2, "min_value": 0}
# An <input type="date"> takes only ISO dates, whatever the language's date format.
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProjectCreateForm(forms.Form):
    compound = forms.ModelChoiceField(queryset=None, label=_("compound"))
    batch_year = forms.IntegerField(label=_("batch year"), min_value=2000, max_value=2100)
    name = forms.CharField(label=_("project name"), max_length=150, required=False)
    kind = forms.ChoiceField(label=_("kind"), choices=RenovationProject.Kind.choices)
    is_key = forms.BooleanField(label=_("key project"), required=False)
    lead_unit = forms.CharField(label=_("lead unit"), max_length=100, required=False)
    builder = forms.CharField(label=_("builder"), max_length=100, required=False)
    supervisor = forms.CharField(label=_("supervisor"), max_length=100, required=False)
    budget = forms.DecimalField(label=_("budget (yuan)"), **MONEY_FIELD)
    planned_start = forms.DateField(label=_("planned start"), required=False, widget=DATE_INPUT)
    planned_finish = forms.DateField(label=_("planned finish"), required=False, widget=DATE_INPUT)
    plan = forms.CharField(label=_("construction plan"), widget=forms.Textarea, required=False)

    def __init__(self, *args, compounds, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["compound"]
        field.queryset = compounds
        self.fields["batch_year"].initial = timezone.localdate().year
        threshold = float(settings.WILLINGNESS_THRESHOLD * 100)
        field.help_text = _(
            "A compound enters the pipeline when its willingness survey reached %(threshold)s%% "
            "consent; each compound shows its consent rate."
        ) % {"threshold": f"{threshold:.1f}"}
        # The consent of every compound in two queries, shown in the choice labels.
        consent = willingness_rates(compounds)

        def label(compound) -> str:
            rate = consent.get(compound.pk)
            if rate is None:
                return _("%(compound)s (no willingness survey yet)") % {"compound": compound.name}
            return _("%(compound)s (consent %(percent)s%%)") % {
                "compound": compound.name,
                "percent": rate.percent,
            }

        field.label_from_instance = label


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("new status"))
    on = forms.DateField(label=_("effective on"), widget=DATE_INPUT)
    reason = forms.CharField(
        label=_("reason (required when moving back)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=1000,
    )

    def __init__(self, *args, project: RenovationProject, allowed: list[ProjectStatus], **kwargs):
        super().__init__(*args, **kwargs)
        # Every status is accepted here so an illegal move reaches the service's clear error.
        self.fields["to_status"].choices = [(s.value, s.label) for s in allowed] + [
            (s.value, s.label) for s in ProjectStatus if s not in allowed
        ]
        self.fields["on"].initial = timezone.localdate()


class ProgressForm(forms.Form):
    percent = forms.IntegerField(label=_("progress (%)"), min_value=0, max_value=100)
    on = forms.DateField(label=_("as of"), widget=DATE_INPUT)
    note = forms.CharField(label=_("note"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["on"].initial = timezone.localdate()


class FundingSourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=FundingSource.Kind.choices)
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    name = forms.CharField(label=_("name"), max_length=150)
    document_number = forms.CharField(label=_("document number"), max_length=80)
    amount = forms.DecimalField(label=_("amount (yuan)"), **MONEY_FIELD)
    received_on = forms.DateField(label=_("received on"), required=False, widget=DATE_INPUT)
    notes = forms.CharField(label=_("notes"), widget=forms.Textarea, required=False)


class AllocationForm(forms.Form):
    project = forms.ModelChoiceField(queryset=None, label=_("project"))
    amount = forms.DecimalField(label=_("amount (yuan)"), **MONEY_FIELD)
    on = forms.DateField(label=_("allocated on"), widget=DATE_INPUT)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.fields["on"].initial = timezone.localdate()


class DisbursementForm(forms.Form):
    allocation = forms.ModelChoiceField(queryset=None, label=_("allocation"))
    amount = forms.DecimalField(label=_("amount (yuan)"), **MONEY_FIELD)
    on = forms.DateField(label=_("paid on"), widget=DATE_INPUT)
    voucher = forms.CharField(label=_("voucher number"), max_length=80, required=False)

    def __init__(self, *args, allocations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["allocation"].queryset = allocations
        self.fields["on"].initial = timezone.localdate()


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form, field by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class _CheckedModelForm(forms.ModelForm):
    """An admin form that runs the service's own rule checks, so a broken rule shows on the
    form with what was typed; the service checks again under its lock when saving."""

    def _check(self, check, *args) -> None:
        try:
            check(*args)
        except ValidationError as error:
            add_service_errors(self, error)


class FundingSourceAdminForm(_CheckedModelForm):
    class Meta:
        model = FundingSource
        fields = ["kind", "year", "name", "document_number", "amount", "received_on", "notes"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("amount") is not None:
            self._check(clean_amount, cleaned["amount"])
            if self.instance.pk and not self.errors:
                self._check(check_source_amount, self.instance, cleaned["amount"])
        return cleaned


class AllocationAdminForm(_CheckedModelForm):
    class Meta:
        model = FundingAllocation
        fields = ["source", "project", "amount", "allocated_on", "note"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("amount") is not None:
            self._check(clean_amount, cleaned["amount"])
        if cleaned.get("source") and cleaned.get("amount") and not self.errors:
            self._check(check_allocation_fits, cleaned["source"], cleaned["amount"])
        return cleaned


class DisbursementAdminForm(_CheckedModelForm):
    class Meta:
        model = Disbursement
        fields = ["allocation", "amount", "paid_on", "voucher"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("amount") is not None:
            self._check(clean_amount, cleaned["amount"])
        if cleaned.get("allocation") and cleaned.get("amount") and cleaned.get("paid_on"):
            if not self.errors:
                self._check(
                    check_payment_fits, cleaned["allocation"], cleaned["amount"], cleaned["paid_on"]
                )
        return cleaned


class ReportRequestForm(forms.Form):
    month = forms.CharField(
        label=_("month"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2022-06"}),
    )

    def clean_month(self):
        from .selectors.report import Month

        try:
            return Month.parse(self.cleaned_data["month"])
        except ValueError:
            raise ValidationError(_("Enter a month as YYYY-MM, such as 2022-06.")) from None


class ProgressImportForm(RegistryImportForm):
    file = forms.FileField(
        label=_("Excel workbook (.xlsx)"),
        help_text=_(
            "One row per project: 社区, 小区名称, 形象进度, and optionally 街道, 批次, 截至日期 "
            "and 情况说明. Download the template for your projects."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": XLSX_ACCEPT}),
    )
    as_of = forms.DateField(
        label=_("as of"),
        required=False,
        # An <input type="date"> takes only ISO dates, whatever the language's date format.
        widget=DATE_INPUT,
        help_text=_("The date of rows that leave 截至日期 blank."),
    )
    field_order = ["file", "as_of", "dry_run"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["as_of"].initial = default_as_of()


class StaffProfileForm(forms.ModelForm):
    """A staff member's profile, kept by the superuser: the phone stored as its 11 digits."""

    phone = PhoneField(label=_("phone"), required=False)

    class Meta:
        model = StaffProfile
        fields = ["role", "sub_district", "community", "phone"]
