"""Who changed what: the change history (django-simple-history) records the request's user
by itself; services called from tasks, commands and imports name the user here."""

from django.db.models import Model


def save_by(instance: Model, user, **save_kwargs) -> Model:
    """Save `instance`, recording `user` (None: the system) as the author in its history."""
    if user is not None:
        instance._history_user = user
    instance.save(**save_kwargs)
    return instance
