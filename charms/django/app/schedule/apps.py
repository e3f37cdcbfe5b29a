from django.apps import AppConfig


class ScheduleConfig(AppConfig):
    name = 'schedule'
    verbose_name = 'Conference schedule'

    def ready(self):
        # Connects the signal handlers that keep the cached schedule in step with edits.
        from . import signals  # noqa: F401
