"""The neighbourhood registry (District → SubDistrict → Community → Compound → Building)
and the staff profile that ties a login to a role and an area."""

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def shown(obj, path: str, format_spec: str = "") -> str:
    """The value at `path` ("project.name") of `obj`, formatted, for a name (__str__): "—"
    while a value on the way is not set (an object still being entered, which the admin
    names in its log) or a related row is gone (a version in a deleted row's history), so
    that naming an object never fails."""
    value = obj
    for name in path.split("."):
        try:
            value = getattr(value, name)
        except ObjectDoesNotExist:
            return "—"
        if value is None:
            return "—"
    return format(value, format_spec)


def scope_via_compound(path: str) -> dict[str, str]:
    """`scope_lookups` of a model that reaches its compound by the lookup `path`."""
    return {"sub_district": f"{path}__community__sub_district", "community": f"{path}__community"}


# National rule for an "old compound": built before the end of 2000.
OLD_COMPOUND_LAST_YEAR = 2000


class District(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    code = models.CharField(_("code"), max_length=20, unique=True)

    # Lookups from this model to a SubDistrict and a Community, used by renovation.access.
    scope_lookups = {"sub_district": "sub_districts", "community": "sub_districts__communities"}

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SubDistrict(models.Model):
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="sub_districts", verbose_name=_("district")
    )
    name = models.CharField(_("name"), max_length=50)
    code = models.CharField(_("code"), max_length=20)
    # With the count and the largest id, what renovation.cache reads as the table's version.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope_lookups = {"sub_district": "pk", "community": "communities"}

    class Meta:
        verbose_name = _("sub-district")
        verbose_name_plural = _("sub-districts")
        ordering = ["district__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["district", "code"], name="subdistrict_code_unique"),
            models.UniqueConstraint(fields=["district", "name"], name="subdistrict_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    sub_district = models.ForeignKey(
        SubDistrict,
        on_delete=models.PROTECT,
        related_name="communities",
        verbose_name=_("sub-district"),
    )
    name = models.CharField(_("name"), max_length=50)
    code = models.CharField(_("code"), max_length=20)
    # With the count and the largest id, what renovation.cache reads as the table's version.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope_lookups = {"sub_district": "sub_district", "community": "pk"}

    class Meta:
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        ordering = ["sub_district__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["sub_district", "code"], name="community_code_unique"),
            models.UniqueConstraint(fields=["sub_district", "name"], name="community_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{shown(self, 'sub_district.name')} {self.name}"


class Compound(models.Model):
    class Origin(models.TextChoices):
        REGULAR = "regular", _("regular residential compound")
        ENTERPRISE_DORMITORY = (
            "enterprise_dormitory",
            _("single-building dormitory of a bankrupt enterprise"),
        )
        WORK_UNIT = "work_unit", _("work-unit staff housing")
        OTHER = "other", _("other")

    class PropertyManagement(models.TextChoices):
        COMPANY = "company", _("property management company")
        SELF_MANAGED = "self_managed", _("self-managed committee")
        COMMUNITY = "community", _("managed by the community")
        NONE = "none", _("no property management")

    community = models.ForeignKey(
        Community, on_delete=models.PROTECT, related_name="compounds", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(
        _("code"),
        max_length=30,
        help_text=_("Unique within the community; assigned if left blank."),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    build_year = models.PositiveSmallIntegerField(
        _("build year"), validators=[MinValueValidator(1900), MaxValueValidator(2100)]
    )
    is_old = models.BooleanField(
        _("old compound"),
        help_text=_("Built before the end of 2000 with facilities behind the times."),
    )
    origin = models.CharField(
        _("origin"), max_length=30, choices=Origin.choices, default=Origin.REGULAR
    )
    original_owner_unit = models.CharField(_("original owner unit"), max_length=100, blank=True)
    households = models.PositiveIntegerField(_("households"))
    declared_building_count = models.PositiveIntegerField(
        _("buildings (as declared)"),
        null=True,
        blank=True,
        help_text=_("The building count the sub-district reported; buildings are listed below."),
    )
    property_management = models.CharField(
        _("property management"),
        max_length=20,
        choices=PropertyManagement.choices,
        default=PropertyManagement.NONE,
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    scope_lookups = {"sub_district": "community__sub_district", "community": "community"}

    class Meta:
        verbose_name = _("compound")
        verbose_name_plural = _("compounds")
        ordering = ["community__sub_district__code", "community__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["community", "code"], name="compound_code_unique"),
            models.UniqueConstraint(fields=["community", "name"], name="compound_name_unique"),
            models.CheckConstraint(
                condition=Q(is_old=False) | Q(build_year__lte=OLD_COMPOUND_LAST_YEAR),
                name="compound_old_built_by_2000",
            ),
        ]
        indexes = [models.Index(fields=["is_old", "community"], name="compound_old_community")]

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    compound = models.ForeignKey(
        Compound, on_delete=models.CASCADE, related_name="buildings", verbose_name=_("compound")
    )
    number = models.CharField(_("building number"), max_length=20)
    floors = models.PositiveSmallIntegerField(
        _("floors"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    units = models.PositiveSmallIntegerField(
        _("stairwell units"), default=1, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    households = models.PositiveIntegerField(_("households"))

    scope_lookups = scope_via_compound("compound")

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["compound", "number"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "number"], name="building_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{shown(self, 'compound.name')} {self.number}"


class Role(models.TextChoices):
    PROGRAMME_OFFICE = "programme_office", _("programme office (housing bureau)")
    FINANCE = "finance", _("finance bureau")
    ORGANISATION = "organisation", _("organisation department")
    PUBLICITY = "publicity", _("publicity department")
    LEADER = "leader", _("district leader (read-only)")
    SUB_DISTRICT_STAFF = "sub_district_staff", _("sub-district staff")
    COMMUNITY_STAFF = "community_staff", _("community staff")
    GRID_WORKER = "grid_worker", _("grid worker")


class StaffProfile(models.Model):
    """Ties a login to one role and, for local roles, to the area it may see."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_profile",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    sub_district = models.ForeignKey(
        SubDistrict,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sub-district"),
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        constraints = [
            # The area must match the role, so a profile can never see more than it should.
            models.CheckConstraint(
                condition=(
                    Q(
                        role="sub_district_staff",
                        sub_district__isnull=False,
                        community__isnull=True,
                    )
                    | Q(
                        role__in=["community_staff", "grid_worker"],
                        community__isnull=False,
                        sub_district__isnull=True,
                    )
                    | (
                        ~Q(role__in=["sub_district_staff", "community_staff", "grid_worker"])
                        & Q(sub_district__isnull=True, community__isnull=True)
                    )
                ),
                name="staffprofile_area_matches_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{shown(self, 'user')} ({self.get_role_display()})"
