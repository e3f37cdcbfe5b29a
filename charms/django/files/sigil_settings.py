"""
Django settings written by the Sigil django charm: the project's own settings, with what
the deployment decides put over them.

The charm writes settings.json (path in SIGIL_DJANGO_SETTINGS) from its config and
relations: the release directory and its settings module, DEBUG, SECRET_KEY,
ALLOWED_HOSTS, the database from the db relation, the cache from the cache relation,
STATIC_ROOT. This module imports the project's settings, then replaces those. gunicorn
imports it afresh in every new worker, so a reload (SIGHUP) applies a new settings.json
(a new release included) without a restart.
"""
import json
import os
import sys
from importlib import import_module

with open(os.environ.get('SIGIL_DJANGO_SETTINGS', '/etc/sigil-django/settings.json'), encoding='utf-8') as _f:
    _charm = json.load(_f)

# The release being served: the charm switches releases by pointing here and reloading.
sys.path.insert(0, _charm['project_dir'])
# Django reads only upper-case names from a settings module.
globals().update({k: v for k, v in vars(import_module(_charm['settings_module'])).items() if k.isupper()})

DEBUG = _charm['debug']
SECRET_KEY = _charm['secret_key']
ALLOWED_HOSTS = _charm['allowed_hosts']
if _charm.get('database'):
    DATABASES = {'default': _charm['database']}
CACHES = {'default': _charm['cache']}
STATIC_ROOT = _charm['static_root']
STATIC_URL = globals().get('STATIC_URL') or '/static/'

# WhiteNoise serves the collected static files from gunicorn (admin CSS included), whatever
# DEBUG says; it goes right after SecurityMiddleware, as its documentation asks.
_WHITENOISE = 'whitenoise.middleware.WhiteNoiseMiddleware'
MIDDLEWARE = list(globals().get('MIDDLEWARE', []))
if _WHITENOISE not in MIDDLEWARE:
    _security = 'django.middleware.security.SecurityMiddleware'
    MIDDLEWARE.insert(MIDDLEWARE.index(_security) + 1 if _security in MIDDLEWARE else 0, _WHITENOISE)
