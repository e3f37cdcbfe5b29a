"""Drops the cached schedule whenever a talk, speaker or room changes (admin edits show at once)."""
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Room, Speaker, Talk
from .views import forget_schedule


@receiver([post_save, post_delete], sender=Talk)
@receiver([post_save, post_delete], sender=Speaker)
@receiver([post_save, post_delete], sender=Room)
def schedule_changed(**_kwargs):
    forget_schedule()
