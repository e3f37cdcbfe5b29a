import socket

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import get_object_or_404, render

from .models import Talk

SCHEDULE_KEY = 'schedule:v1'
SCHEDULE_SECONDS = 300


def forget_schedule():
    cache.delete(SCHEDULE_KEY)


def _schedule_days():
    """The schedule as plain data (cacheable): days in order, each with its talks by start time."""
    days = []
    for t in Talk.objects.select_related('speaker', 'room'):
        day = t.start.date().isoformat()
        if not days or days[-1]['date'] != day:
            days.append({'date': day, 'label': t.start.strftime('%A %d %B %Y'), 'talks': []})
        days[-1]['talks'].append({
            'id': t.id,
            'start': t.start.strftime('%H:%M'),
            'end': t.end.strftime('%H:%M'),
            'title': t.title,
            'speaker': t.speaker.name,
            'room': t.room.name,
        })
    return days


def schedule(request):
    days = cache.get(SCHEDULE_KEY)
    hit = days is not None
    if not hit:
        days = _schedule_days()
        cache.set(SCHEDULE_KEY, days, SCHEDULE_SECONDS)
    return render(request, 'schedule/schedule.html', {
        'days': days,
        'talk_count': sum(len(d['talks']) for d in days),
        # Shown in the footer: which backend served the page and whether the cache had it,
        # so a look at the page tells whether the cache relation is in use.
        'served_by': socket.gethostname(),
        'cache_backend': settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1],
        'cache_hit': hit,
    })


def talk(request, pk):
    t = get_object_or_404(Talk.objects.select_related('speaker', 'room'), pk=pk)
    return render(request, 'schedule/talk.html', {'talk': t, 'served_by': socket.gethostname()})
