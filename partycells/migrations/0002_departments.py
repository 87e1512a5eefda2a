"""The district departments the article names, so a new installation can record its first
joint meeting; more are added in the admin."""

from django.db import migrations

DEPARTMENTS = [
    ("中共柳北区委组织部", "区委组织部"),
    ("中共柳北区委宣传部", "区委宣传部"),
    ("柳北区住房和城乡建设局", "区住建局"),
    ("柳北区财政局", "区财政局"),
    ("柳北区发展和改革局", "区发改局"),
    ("柳北区城市管理行政执法局", "区城管局"),
]


def add_departments(apps, schema_editor):
    Department = apps.get_model("partycells", "Department")
    for order, (name, short) in enumerate(DEPARTMENTS, start=1):
        Department.objects.get_or_create(
            name=name, defaults={"short_name": short, "sort_order": order * 10}
        )


def remove_departments(apps, schema_editor):
    Department = apps.get_model("partycells", "Department")
    Department.objects.filter(name__in=[name for name, _ in DEPARTMENTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("partycells", "0001_initial")]

    operations = [migrations.RunPython(add_departments, remove_departments)]
