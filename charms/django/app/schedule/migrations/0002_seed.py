"""Seed data: a two-day programme, so a fresh deployment shows a schedule at once."""
from datetime import datetime, timezone

from django.db import migrations

ROOMS = [('Main hall', 400), ('Room A', 120), ('Room B', 80)]

SPEAKERS = [
    ('Ada Okafor', 'Northwind Systems', 'Runs the platform team that moved 300 services to Juju models.'),
    ('Bruno Lefèvre', 'Université de Lyon', 'Studies failure detection in distributed systems.'),
    ('Chen Wei', 'Harbour Bank', 'Operates PostgreSQL fleets where downtime is measured in basis points.'),
    ('Dana Kowalski', 'Independent', 'Writes charms for fun and for a living.'),
    ('Emeka Nwosu', 'Lagos Tech Hub', 'Teaches operations to people who would rather write code.'),
]

# (day, start, end, room, speaker, title, abstract)
TALKS = [
    (1, '09:00', '09:45', 'Main hall', 'Ada Okafor', 'Opening keynote: operations as code',
     'Why modelling applications and their relations beats writing runbooks.'),
    (1, '10:00', '10:45', 'Room A', 'Chen Wei', 'PostgreSQL behind a charm',
     'Roles, pg_hba.conf and the legacy pgsql interface, and what they buy you.'),
    (1, '10:00', '10:45', 'Room B', 'Dana Kowalski', 'Your first charm in an afternoon',
     'From metadata.yaml to a deployed service, live.'),
    (1, '11:00', '11:45', 'Main hall', 'Bruno Lefèvre', 'Health checks that tell the truth',
     'Rise, fall, inter, and what a load balancer can and cannot know.'),
    (1, '14:00', '14:45', 'Room A', 'Emeka Nwosu', 'Teaching deploys to newcomers',
     'What we learned running operations workshops for 500 students.'),
    (2, '09:30', '10:15', 'Main hall', 'Dana Kowalski', 'Bundles: a whole stack in one file',
     'HAProxy, Django, PostgreSQL and memcached, deployed and related in one command.'),
    (2, '10:30', '11:15', 'Room B', 'Ada Okafor', 'Leadership, elections and leader data',
     'How units agree on who runs migrations, and why only one should.'),
    (2, '11:30', '12:15', 'Room A', 'Chen Wei', 'Caching without tears',
     'memcached in front of an ORM: invalidation you can reason about.'),
    (2, '15:00', '15:45', 'Main hall', 'Bruno Lefèvre', 'Closing keynote: boring infrastructure',
     'The best operations are the ones nobody notices.'),
]

FIRST_DAY = (2025, 10, 14)


def at(day, hhmm):
    h, m = (int(x) for x in hhmm.split(':'))
    y, mo, d = FIRST_DAY
    return datetime(y, mo, d + day - 1, h, m, tzinfo=timezone.utc)


def seed(apps, schema_editor):
    Room = apps.get_model('schedule', 'Room')
    Speaker = apps.get_model('schedule', 'Speaker')
    Talk = apps.get_model('schedule', 'Talk')
    if Talk.objects.exists():
        return
    rooms = {name: Room.objects.create(name=name, capacity=cap) for name, cap in ROOMS}
    speakers = {name: Speaker.objects.create(name=name, affiliation=aff, bio=bio) for name, aff, bio in SPEAKERS}
    for day, start, end, room, speaker, title, abstract in TALKS:
        Talk.objects.create(title=title, abstract=abstract, speaker=speakers[speaker], room=rooms[room],
                            start=at(day, start), end=at(day, end))


def unseed(apps, schema_editor):
    apps.get_model('schedule', 'Talk').objects.filter(title__in=[t[5] for t in TALKS]).delete()


class Migration(migrations.Migration):
    dependencies = [('schedule', '0001_initial')]
    operations = [migrations.RunPython(seed, unseed)]
