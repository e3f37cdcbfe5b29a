from django.contrib import admin

from .models import Room, Speaker, Talk


@admin.register(Talk)
class TalkAdmin(admin.ModelAdmin):
    list_display = ['title', 'speaker', 'room', 'start', 'end']
    list_filter = ['room', 'start']
    search_fields = ['title', 'speaker__name']
    date_hierarchy = 'start'


@admin.register(Speaker)
class SpeakerAdmin(admin.ModelAdmin):
    list_display = ['name', 'affiliation']
    search_fields = ['name']


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ['name', 'capacity']
