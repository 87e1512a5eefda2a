"""Forms parse what was typed; the services decide whether it may be saved."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from renovation.models import ItemCategory
from renovation.widgets import QuickSelect, RowChoiceField

from .models import (
    Channel,
    DemandList,
    RequestKind,
    RequestStatus,
    ResidentRequest,
    Survey,
    SurveyAnswer,
)
from .phones import PhoneField
from .services import DESCRIPTION_MAX

DATE_INPUT = forms.DateInput(attrs={"type": "date"})
PUBLIC_DESCRIPTION_MAX = 500


class BuildingSelect(QuickSelect):
    """Building options carry their compound, so a line of script can show only the
    buildings of the chosen compound."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        row = getattr(value, "instance", None)
        if row is not None:
            option["attrs"]["data-compound"] = row["compound_id"]
        return option


class CategoryChoiceField(RowChoiceField):
    """The item catalogue; leaving it empty means "other"."""

    def __init__(self, **kwargs):
        super().__init__(
            queryset=ItemCategory.objects.filter(is_active=True),
            required=False,
            empty_label=_("other (not in the list)"),
            label=_("category"),
            **kwargs,
        )


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=RequestKind.choices, widget=QuickSelect)
    compound = RowChoiceField(queryset=None, label=_("compound"))
    building = RowChoiceField(
        queryset=None,
        label=_("building"),
        required=False,
        widget=BuildingSelect,
        columns=("compound_id", "compound__name", "number"),
        label_from_row=lambda b: f"{b['compound__name']} · {b['number']}",
    )
    unit_number = forms.IntegerField(
        label=_("stairwell unit"),
        required=False,
        min_value=1,
        max_value=50,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    room = forms.CharField(label=_("room"), max_length=10, required=False)
    category = CategoryChoiceField()
    description = forms.CharField(
        label=_("what the resident asks for"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": DESCRIPTION_MAX}),
    )
    contact_name = forms.CharField(
        label=_("contact name"),
        max_length=30,
        required=False,
        help_text=_("A surname and title is enough, e.g. 王阿姨."),
    )
    contact_phone = PhoneField(
        label=_("contact phone"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    channel = forms.ChoiceField(
        label=_("channel"),
        choices=[(c.value, c.label) for c in Channel if c != Channel.ONLINE],
        initial=Channel.DOOR_TO_DOOR,
        widget=QuickSelect,
    )

    def __init__(self, *args, compounds, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = compounds
        self.fields["building"].queryset = buildings


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("new status"), choices=RequestStatus.choices)
    note = forms.CharField(
        label=_("note (the reason, when declining or deferring)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    project_item = forms.ModelChoiceField(
        queryset=None, label=_("project item (when planning)"), required=False
    )

    def __init__(self, *args, request: ResidentRequest, items, allowed, **kwargs):
        super().__init__(*args, **kwargs)
        # Every status stays accepted so an illegal move reaches the service's clear error;
        # the allowed ones come first.
        self.fields["to_status"].choices = [(s, RequestStatus(s).label) for s in allowed] + [
            (s.value, s.label) for s in RequestStatus if s not in allowed
        ]
        self.fields["project_item"].queryset = items
        self.fields["project_item"].label_from_instance = lambda i: (
            f"{i.project.batch_year} · {i.category.name} {i.description}"
        )


class BulkTransitionForm(forms.Form):
    requests = forms.ModelMultipleChoiceField(queryset=None, label=_("requests"))
    to_status = forms.ChoiceField(label=_("new status"), choices=RequestStatus.choices)
    note = forms.CharField(label=_("note"), required=False, max_length=1000)

    def __init__(self, *args, requests, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["requests"].queryset = requests


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, label=_("assign to"))

    def __init__(self, *args, users, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = users
        self.fields["assignee"].label_from_instance = lambda u: u.get_full_name() or u.username


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("answer to the resident"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BookingForm(forms.Form):
    slot = forms.ModelChoiceField(queryset=None, label=_("slot at the community station"))

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = slots


class SurveyCreateForm(forms.Form):
    compound = forms.ModelChoiceField(queryset=None, label=_("compound"))
    kind = forms.ChoiceField(label=_("kind"), choices=Survey.Kind.choices)
    project = forms.ModelChoiceField(
        queryset=None, label=_("project (satisfaction surveys)"), required=False
    )
    started_on = forms.DateField(label=_("started on"), widget=DATE_INPUT)

    def __init__(self, *args, compounds, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = compounds
        self.fields["project"].queryset = projects
        self.fields["started_on"].initial = timezone.localdate()


class SurveyAnswerForm(forms.Form):
    building = forms.ModelChoiceField(queryset=None, label=_("building"))
    unit_number = forms.IntegerField(
        label=_("stairwell unit"),
        min_value=1,
        max_value=50,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    room = forms.CharField(label=_("room"), max_length=10)
    answer = forms.ChoiceField(
        label=_("answer"), choices=SurveyAnswer.Answer.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["building"].label_from_instance = lambda b: b.number


class DemandListCreateForm(forms.Form):
    compound = forms.ModelChoiceField(queryset=None, label=_("compound"))
    send_by = forms.DateField(label=_("to be sent by"), required=False, widget=DATE_INPUT)

    def __init__(self, *args, compounds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = compounds


class DemandReviewForm(forms.Form):
    meeting = forms.ChoiceField(label=_("reviewed at"), choices=DemandList.Meeting.choices)
    on = forms.DateField(label=_("reviewed on"), widget=DATE_INPUT)
    note = forms.CharField(
        label=_("what the meeting decided"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DemandItemsForm(forms.Form):
    """A quantity per line of a received list; the lines left empty are not taken up."""

    project = forms.ModelChoiceField(queryset=None, label=_("project"))

    def __init__(self, *args, lines, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = projects
        self.line_fields = []
        for line in lines:
            if line.item is None or line.category is None or line.item.project_item_id:
                continue
            name = f"quantity_{line.item.pk}"
            self.fields[name] = forms.DecimalField(
                label=_("%(category)s quantity (%(unit)s)")
                % {
                    "category": line.category.name,
                    "unit": line.category.get_default_unit_display(),
                },
                required=False,
                min_value=0,
                max_digits=12,
                decimal_places=2,
            )
            self.line_fields.append((line.item.pk, name))

    def quantities(self) -> dict[int, object]:
        return {pk: self.cleaned_data.get(name) for pk, name in self.line_fields}


class PublicWishForm(forms.Form):
    """The online track. Every field has a size limit; the hidden `website` field is a trap
    for robots, which fill in whatever they find."""

    description = forms.CharField(
        label=_("your wish for the renovation"),
        max_length=PUBLIC_DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": PUBLIC_DESCRIPTION_MAX}),
    )
    category = CategoryChoiceField()
    building = forms.ModelChoiceField(queryset=None, label=_("building"), required=False)
    unit_number = forms.IntegerField(
        label=_("stairwell unit"), required=False, min_value=1, max_value=50
    )
    room = forms.CharField(label=_("room"), max_length=10, required=False)
    contact_name = forms.CharField(
        label=_("how to address you"),
        max_length=30,
        required=False,
        help_text=_("A surname and title is enough, e.g. 王阿姨."),
    )
    contact_phone = PhoneField(
        label=_("phone, for calling you back"),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    website = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["building"].label_from_instance = lambda b: b.number

    @property
    def is_robot(self) -> bool:
        return bool(self.cleaned_data.get("website"))
