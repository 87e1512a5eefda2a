"""Authentication: Django's ModelBackend, with the person's staff profile read together with
the user on every request."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

# What renovation.access.get_profile reads for every permission check.
PROFILE_RELATED = ("staff_profile__sub_district", "staff_profile__community")


class ProfileModelBackend(ModelBackend):
    """Every page checks the person's role and area (renovation.access), so the user each
    request loads comes with the staff profile, its sub-district and community joined: one
    query instead of two on every request."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related(*PROFILE_RELATED)
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
