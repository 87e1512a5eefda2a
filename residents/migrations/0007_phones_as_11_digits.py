"""Phone numbers stored before renovation.phones.normalise_phone, in the spelling they were
typed (full-width digits, +86, spaces), rewritten as their 11 digits, so that each number
has one spelling in lookups and in the public form's daily limit.

A stored value that is no mainland mobile number in any spelling (a landline, a typo) is
left as it was: there is nothing to rewrite it to, and dropping it would lose the only way
to call the resident back. The migration prints how many it left."""

from django.core.exceptions import ValidationError
from django.db import migrations

from renovation.phones import normalise_phone

CANONICAL = r"^1[3-9][0-9]{9}$"
BATCH = 1000

# (app, model, field) of every stored phone number.
PHONE_FIELDS = [
    ("residents", "ResidentRequest", "contact_phone"),
    ("residents", "HistoricalResidentRequest", "contact_phone"),
    ("renovation", "StaffProfile", "phone"),
]


def normalise_stored_phones(apps, schema_editor):
    for app_label, model_name, field in PHONE_FIELDS:
        model = apps.get_model(app_label, model_name)
        pk = model._meta.pk.attname
        rows = (
            model.objects.exclude(**{field: ""})
            .exclude(**{f"{field}__regex": CANONICAL})
            .only(pk, field)
            .order_by(pk)
        )
        changed, left = [], 0
        for row in rows.iterator(chunk_size=BATCH):
            try:
                number = normalise_phone(getattr(row, field))
            except ValidationError:
                left += 1
                continue
            setattr(row, field, number)
            changed.append(row)
            if len(changed) >= BATCH:
                model.objects.bulk_update(changed, [field])
                changed = []
        if changed:
            model.objects.bulk_update(changed, [field])
        if left:
            print(f"\n  {model_name}.{field}: {left} stored value(s) left as they were")


class Migration(migrations.Migration):
    dependencies = [
        ("renovation", "0007_area_updated_at"),
        ("residents", "0006_request_list_versions"),
    ]

    operations = [migrations.RunPython(normalise_stored_phones, migrations.RunPython.noop)]
