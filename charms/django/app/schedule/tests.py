from django.core.cache import cache
from django.test import TestCase
from django.urls import reverse

from .models import Talk


class ScheduleTests(TestCase):
    def setUp(self):
        cache.clear()

    def test_seed_data_is_on_the_schedule_in_time_order(self):
        r = self.client.get(reverse('schedule:schedule'))
        self.assertEqual(r.status_code, 200)
        self.assertContains(r, '9 talks over 2 days')
        body = r.content.decode()
        self.assertLess(body.index('Opening keynote'), body.index('PostgreSQL behind a charm'))
        self.assertLess(body.index('PostgreSQL behind a charm'), body.index('Closing keynote'))

    def test_second_request_is_served_from_the_cache_and_edits_invalidate_it(self):
        self.assertContains(self.client.get('/'), '(miss)')
        self.assertContains(self.client.get('/'), '(hit)')
        t = Talk.objects.get(title__startswith='Opening keynote')
        t.title = 'Opening keynote, revised'
        t.save()
        r = self.client.get('/')
        self.assertContains(r, '(miss)')
        self.assertContains(r, 'Opening keynote, revised')

    def test_talk_page_and_404(self):
        t = Talk.objects.first()
        self.assertContains(self.client.get(reverse('schedule:talk', args=[t.pk])), t.speaker.name)
        self.assertEqual(self.client.get('/talks/99999/').status_code, 404)
