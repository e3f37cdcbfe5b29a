"""The WSGI application gunicorn serves: any Django project, with the charm's settings (sigil_settings)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ['DJANGO_SETTINGS_MODULE'] = 'sigil_settings'
application = get_wsgi_application()
