"""The admin's lookups, searches and sort orders on phone numbers, for those who see them
masked: refused.

A list that shows 131****0078 but answers `?contact_phone__startswith=1311` (then 13112, …)
gives the number back digit by digit; `?contact_phone=<guess>`, a range, a regex, a search
or a sort order by the number do the same. Whether a person sees a model's numbers in full
is renovation.phones.may_look_up_phones; a refused lookup answers 400, as Django answers any
lookup an admin does not allow, whatever the guess."""

from django.contrib.admin.views.main import ORDER_VAR
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

from .phones import is_phone_field, may_look_up_phones

# The lookups anyone who may look numbers up needs; others (a range, which the admin
# cannot even parse from a query string, a regex) are refused on a phone for everyone.
PHONE_LOOKUPS = frozenset(
    {"exact", "iexact", "startswith", "istartswith", "contains", "icontains", "in"}
)


def _refused_path(user, model, path: str) -> bool:
    """Whether the lookup `path` from `model` reads a phone number `user` may not look up."""
    parts = path.split(LOOKUP_SEP)
    for index, part in enumerate(parts):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        if is_phone_field(field):
            lookup = parts[index + 1] if index + 1 < len(parts) else "exact"
            return lookup not in PHONE_LOOKUPS or not may_look_up_phones(user, field.model)
        if not field.is_relation or field.related_model is None:
            return False
        model = field.related_model
    return False


class PhoneLookupsGuard:
    """For every admin: filters, searches and sort orders that read a phone number only
    for those who see the model's numbers in full."""

    def lookup_allowed(self, lookup, value, request=None):
        user = getattr(request, "user", None)
        if _refused_path(user, self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        return [
            name
            for name in super().get_search_fields(request)
            if not _refused_path(request.user, self.model, name.lstrip("^=@"))
        ]

    def get_list_filter(self, request):
        def path(item) -> str:
            if isinstance(item, str):
                return item
            if isinstance(item, tuple | list) and item:
                return item[0]
            return ""  # a SimpleListFilter: it reads its own parameter

        return [
            item
            for item in super().get_list_filter(request)
            if not _refused_path(request.user, self.model, path(item))
        ]

    def _refused_sort_columns(self, request) -> set[str]:
        """list_display names whose sort order would follow a refused phone number."""
        refused = set()
        for name in self.get_list_display(request):
            if callable(name):
                path = getattr(name, "admin_order_field", None)
            else:
                attribute = getattr(self, name, None) or getattr(self.model, name, None)
                path = getattr(attribute, "admin_order_field", None) or name
            if isinstance(path, str) and _refused_path(request.user, self.model, path.lstrip("-")):
                refused.add(name)
        return refused

    def get_sortable_by(self, request):
        refused = self._refused_sort_columns(request)
        return [name for name in super().get_sortable_by(request) if name not in refused]

    def get_changelist_instance(self, request):
        # The admin sorts by any column named in ?o=, sortable or not: drop the refused ones.
        if request.GET.get(ORDER_VAR):
            columns = list(self.get_list_display(request))
            if self.get_actions(request):
                columns = ["action_checkbox", *columns]
            refused = self._refused_sort_columns(request)
            kept = []
            for part in request.GET[ORDER_VAR].split("."):
                index = part.rpartition("-")[2]
                if not (index.isdigit() and int(index) < len(columns)):
                    continue
                if columns[int(index)] not in refused:
                    kept.append(part)
            request.GET = request.GET.copy()
            request.GET[ORDER_VAR] = ".".join(kept)
        return super().get_changelist_instance(request)
