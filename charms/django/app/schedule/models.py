from django.db import models


class Room(models.Model):
    name = models.CharField(max_length=100, unique=True)
    capacity = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ['name']

    def __str__(self):
        return self.name


class Speaker(models.Model):
    name = models.CharField(max_length=200)
    affiliation = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)

    class Meta:
        ordering = ['name']

    def __str__(self):
        return self.name


class Talk(models.Model):
    title = models.CharField(max_length=200)
    abstract = models.TextField(blank=True)
    speaker = models.ForeignKey(Speaker, on_delete=models.PROTECT, related_name='talks')
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name='talks')
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ['start', 'room__name']
        constraints = [
            models.CheckConstraint(check=models.Q(end__gt=models.F('start')), name='talk_ends_after_it_starts'),
        ]

    def __str__(self):
        return self.title
