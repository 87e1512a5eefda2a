"""Choices that render fast on pages with large areas: selects written in Python rather
than a template per option, and a model choice built from a few columns of its rows rather
than a model instance per option; and the cache key of a form built of them. Used by the
filter forms of both apps and the logging form."""

from operator import itemgetter

from django import forms
from django.forms.models import ModelChoiceIterator, ModelChoiceIteratorValue
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from .cache import fragment_key


def _attributes(attrs: dict) -> str:
    """django/forms/widgets/attrs.html, in Python."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelectMixin:
    """Writes the select and its options in Python: the same HTML as the site's select.html
    (templates/django/forms/widgets/select.html), without a template loop iteration per
    option (about 25 µs each here; the building picker alone has a hundred options, the
    request pages a dozen small selects)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        html = [f'<select name="{conditional_escape(name)}"{_attributes(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                html.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            html.extend(
                f'\n  <option value="{conditional_escape(option["value"])}"'
                f"{_attributes(option['attrs'])}>{conditional_escape(option['label'])}</option>"
                for option in options
            )
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))


class QuickSelect(QuickSelectMixin, forms.Select):
    pass


class QuickSelectMultiple(QuickSelectMixin, forms.SelectMultiple):
    pass


class QuickNullBooleanSelect(QuickSelectMixin, forms.NullBooleanSelect):
    pass


class RowChoiceIterator(ModelChoiceIterator):
    """The options of a `RowChoiceField`, from its rows rather than a model instance per
    option, which Django's own builds through a server-side cursor on PostgreSQL (three
    round trips): most of the time of a page with a building picker."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for row in self.field.rows():
            yield ModelChoiceIteratorValue(row["pk"], row), self.field.label_from_row(row)


class RowChoiceField(forms.ModelChoiceField):
    """A model choice whose options are labelled from a few columns: `label_from_row` gets
    a dict of the primary key and `columns`. Cleaning still gives the model instance."""

    iterator = RowChoiceIterator
    widget = QuickSelect

    def __init__(self, *, columns=("name",), label_from_row=itemgetter("name"), **kwargs):
        self.columns = columns
        self.label_from_row = label_from_row
        self._rows = None
        super().__init__(**kwargs)

    def _set_queryset(self, queryset):
        self._rows = None
        super()._set_queryset(queryset)

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def rows(self) -> list[dict]:
        """The options' rows, read in one plain query the first time they are asked for."""
        if self._rows is None:
            self._rows = list(self.queryset.values("pk", *self.columns))
        return self._rows


def options_key(form: forms.Form, *depends_on) -> str:
    """Everything a form's HTML depends on, for the template to keep it in the cache:
    `depends_on` (what was asked, or chosen last time) and the options of each choice of
    rows, read here (one small query each, which the form would make anyway), so a new or
    renamed one shows at once. Its other choices are fixed in the code, and fragment_key
    keys by language. A model choice whose options it cannot read is refused."""
    offered = []
    for name, field in form.fields.items():
        if isinstance(field, RowChoiceField):
            offered.append(field.rows())
        elif isinstance(field, forms.ModelChoiceField):
            raise TypeError(f"{name}: only a RowChoiceField's options can key the cache")
    return fragment_key(*depends_on, offered)
