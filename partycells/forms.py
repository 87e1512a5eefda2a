"""Forms parse input; the services check the rules and save."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from renovation.forms import DATE_INPUT, _CheckedModelForm
from residents.models import ResidentRequest

from .models import (
    Activity,
    BranchMember,
    BuildingGroup,
    DecisionStatus,
    Department,
    MeetingKind,
    MemberRole,
    TemporaryBranch,
    UnitKind,
    VolunteerMember,
    VolunteerTeam,
)
from .services import check_branch, check_group, check_member

TEXTAREA = forms.Textarea(attrs={"rows": 3})
# A cap on counts of people, households and votes: beyond it a typo (or a hostile post)
# reached the database's integer column and answered 500.
PEOPLE_MAX = 100_000


def _today_initial(form: forms.Form, *fields: str) -> None:
    for field in fields:
        form.fields[field].initial = timezone.localdate()


def request_label(request: ResidentRequest) -> str:
    """A request as a choice: number, kind, compound and the start of what was said; never
    the resident's name or phone."""
    return f"{request} · {request.compound.name} · {request.description[:30]}"


class BranchCreateForm(forms.Form):
    projects = forms.ModelMultipleChoiceField(queryset=None, label=_("renovation projects"))
    name = forms.CharField(
        label=_("name"),
        max_length=100,
        required=False,
        help_text=_("Left blank for one project: named after its compound."),
    )
    founded_on = forms.DateField(label=_("founded on"), widget=DATE_INPUT)
    notes = forms.CharField(label=_("notes"), widget=TEXTAREA, required=False, max_length=2000)

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["projects"].queryset = projects
        _today_initial(self, "founded_on")


class MemberForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=30)
    unit_kind = forms.ChoiceField(label=_("unit kind"), choices=UnitKind.choices)
    unit_name = forms.CharField(label=_("unit"), max_length=100)
    position = forms.CharField(label=_("position in the unit"), max_length=60, required=False)
    membership_held_at = forms.CharField(
        label=_("party membership held at"), max_length=100, required=False
    )
    role = forms.ChoiceField(
        label=_("role in the branch"), choices=MemberRole.choices, initial=MemberRole.MEMBER
    )
    is_trainee = forms.BooleanField(label=_("placed for training"), required=False)
    joined_on = forms.DateField(label=_("joined on"), widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _today_initial(self, "joined_on")


class MemberLeaveForm(forms.Form):
    on = forms.DateField(label=_("left on"), widget=DATE_INPUT)


class GroupForm(forms.Form):
    building = forms.ModelChoiceField(queryset=None, label=_("building"))
    leader = forms.ModelChoiceField(queryset=None, label=_("group leader"), required=False)
    members = forms.ModelMultipleChoiceField(
        queryset=None, label=_("members"), required=False, widget=forms.CheckboxSelectMultiple
    )
    founded_on = forms.DateField(label=_("founded on"), widget=DATE_INPUT)

    def __init__(self, *args, buildings, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["leader"].queryset = members
        self.fields["members"].queryset = members
        _today_initial(self, "founded_on")


class TeamForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=VolunteerTeam.Kind.choices)
    name = forms.CharField(label=_("name"), max_length=60, required=False)
    founded_on = forms.DateField(label=_("founded on"), widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _today_initial(self, "founded_on")


class VolunteerForm(forms.Form):
    team = forms.ModelChoiceField(queryset=None, label=_("team"))
    name = forms.CharField(label=_("name"), max_length=30)
    kind = forms.ChoiceField(label=_("who"), choices=VolunteerMember.Kind.choices)
    building = forms.ModelChoiceField(queryset=None, label=_("building"), required=False)
    is_leader = forms.BooleanField(label=_("team leader"), required=False)

    def __init__(self, *args, teams, buildings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["building"].queryset = buildings


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=Activity.Kind.choices)
    held_on = forms.DateField(label=_("held on"), widget=DATE_INPUT)
    place = forms.CharField(label=_("place"), max_length=100)
    participants = forms.IntegerField(label=_("participants"), min_value=1, max_value=PEOPLE_MAX)
    households_visited = forms.IntegerField(
        label=_("households visited"), min_value=0, max_value=PEOPLE_MAX, initial=0
    )
    summary = forms.CharField(label=_("summary"), widget=TEXTAREA, required=False, max_length=1000)
    requests = forms.ModelMultipleChoiceField(
        queryset=None,
        label=_("resident requests collected"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Requests logged in the branch's compounds on the day or in the week after."),
    )

    def __init__(self, *args, requests, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["requests"]
        field.queryset = requests
        field.label_from_instance = request_label
        _today_initial(self, "held_on")


class EscalationForm(forms.Form):
    matter = forms.CharField(label=_("matter"), widget=TEXTAREA, max_length=1000)


class EscalationAnswerForm(forms.Form):
    answer = forms.CharField(label=_("answer"), widget=TEXTAREA, max_length=1000)


class EscalationResolveForm(forms.Form):
    resolution = forms.CharField(label=_("resolution"), widget=TEXTAREA, max_length=1000)
    on = forms.DateField(label=_("resolved on"), widget=DATE_INPUT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _today_initial(self, "on")


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"))
    branch = forms.ModelChoiceField(queryset=None, label=_("branch"), required=False)
    community = forms.ModelChoiceField(
        queryset=None,
        label=_("community"),
        required=False,
        help_text=_("For a community's own coordination meeting or hearing."),
    )
    title = forms.CharField(label=_("title"), max_length=150, required=False)
    held_on = forms.DateField(label=_("held on"), widget=DATE_INPUT)
    place = forms.CharField(label=_("place"), max_length=100, required=False)
    chair = forms.CharField(label=_("chaired by"), max_length=60, required=False)
    agenda = forms.CharField(label=_("agenda"), widget=TEXTAREA, required=False)
    attendees = forms.CharField(
        label=_("attendees"),
        widget=TEXTAREA,
        required=False,
        help_text=_("One person per line, with their unit."),
    )
    attendance = forms.IntegerField(
        label=_("people present"), min_value=0, max_value=PEOPLE_MAX, initial=0
    )
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.filter(is_active=True),
        label=_("departments attending"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    minutes = forms.CharField(label=_("minutes"), widget=TEXTAREA, required=False)

    def __init__(self, *args, branches, communities, district_level: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.district_level = district_level
        kinds = MeetingKind.choices
        if not district_level:
            kinds = [(k, label) for k, label in kinds if k != MeetingKind.JOINT]
        self.fields["kind"].choices = kinds
        self.fields["branch"].queryset = branches
        self.fields["community"].queryset = communities
        _today_initial(self, "held_on")

    def clean(self):
        cleaned = super().clean()
        # Local staff hold meetings in their area only: a district-level meeting is not theirs.
        if not self.district_level and not cleaned.get("branch") and not cleaned.get("community"):
            self.add_error("community", _("Choose the branch or community holding the meeting."))
        return cleaned


class MeetingMinutesForm(forms.Form):
    place = forms.CharField(label=_("place"), max_length=100, required=False)
    chair = forms.CharField(label=_("chaired by"), max_length=60, required=False)
    agenda = forms.CharField(label=_("agenda"), widget=TEXTAREA, required=False)
    attendees = forms.CharField(label=_("attendees"), widget=TEXTAREA, required=False)
    attendance = forms.IntegerField(label=_("people present"), min_value=0, max_value=PEOPLE_MAX)
    minutes = forms.CharField(label=_("minutes"), widget=forms.Textarea, required=False)


class DecisionForm(forms.Form):
    text = forms.CharField(label=_("decision"), widget=TEXTAREA, max_length=1000)
    responsible_department = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True),
        label=_("responsible department"),
        required=False,
    )
    responsible_unit = forms.CharField(label=_("responsible unit"), max_length=100, required=False)
    due_on = forms.DateField(label=_("due on"), widget=DATE_INPUT)


class DecisionUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), choices=DecisionStatus.choices)
    note = forms.CharField(label=_("progress so far"), max_length=1000, required=False)
    on = forms.DateField(label=_("as of"), widget=DATE_INPUT)
    meeting = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _today_initial(self, "on")


class VoteForm(forms.Form):
    matter = forms.CharField(label=_("matter"), max_length=300)
    entitled = forms.IntegerField(
        label=_("members entitled to vote"), min_value=0, max_value=PEOPLE_MAX
    )
    votes_for = forms.IntegerField(label=_("for"), min_value=0, max_value=PEOPLE_MAX)
    votes_against = forms.IntegerField(
        label=_("against"), min_value=0, max_value=PEOPLE_MAX, initial=0
    )
    abstentions = forms.IntegerField(
        label=_("abstentions"), min_value=0, max_value=PEOPLE_MAX, initial=0
    )


class SettlementForm(forms.Form):
    request = forms.ModelChoiceField(queryset=None, label=_("objection"))
    outcome = forms.CharField(label=_("outcome"), widget=TEXTAREA, max_length=1000)

    def __init__(self, *args, objections, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["request"].queryset = objections
        self.fields["request"].label_from_instance = request_label


# ---------------------------------------------------------------------------------------
# Admin forms: the services' own checks, so a broken rule shows on the form.


class TemporaryBranchAdminForm(_CheckedModelForm):
    class Meta:
        model = TemporaryBranch
        fields = ["name", "community", "projects", "founded_on", "notes"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            self._check(
                lambda: check_branch(
                    name=(cleaned.get("name") or "").strip(),
                    community=cleaned.get("community"),
                    projects=list(cleaned.get("projects") or []),
                    founded_on=cleaned.get("founded_on"),
                    exclude=self.instance if self.instance.pk else None,
                )
            )
        return cleaned


class BranchMemberAdminForm(_CheckedModelForm):
    class Meta:
        model = BranchMember
        fields = [
            "branch",
            "name",
            "unit_kind",
            "unit_name",
            "position",
            "membership_held_at",
            "role",
            "is_trainee",
            "joined_on",
            "left_on",
        ]

    def clean(self):
        cleaned = super().clean()
        branch = cleaned.get("branch") or getattr(self.instance, "branch", None)
        if not self.errors and branch is not None and cleaned.get("left_on") is None:
            self._check(
                lambda: check_member(
                    branch=branch,
                    name=(cleaned.get("name") or "").strip(),
                    unit_kind=cleaned.get("unit_kind") or "",
                    unit_name=(cleaned.get("unit_name") or "").strip(),
                    role=cleaned.get("role") or "",
                    is_trainee=bool(cleaned.get("is_trainee")),
                    joined_on=cleaned.get("joined_on"),
                    exclude=self.instance if self.instance.pk else None,
                )
            )
        return cleaned


class BuildingGroupAdminForm(_CheckedModelForm):
    class Meta:
        model = BuildingGroup
        fields = ["branch", "building", "leader", "members", "founded_on"]

    def clean(self):
        cleaned = super().clean()
        if not self.errors and cleaned.get("branch") is not None:
            self._check(
                lambda: check_group(
                    branch=cleaned["branch"],
                    building=cleaned.get("building"),
                    leader=cleaned.get("leader"),
                    members=list(cleaned.get("members") or []),
                    founded_on=cleaned.get("founded_on"),
                    exclude=self.instance if self.instance.pk else None,
                )
            )
        return cleaned
