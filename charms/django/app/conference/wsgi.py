"""WSGI entry point for `gunicorn conference.wsgi` outside the charm (the charm uses its own)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'conference.settings')
application = get_wsgi_application()
