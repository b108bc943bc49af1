from django.urls import path

from insights import forum_views as v

urlpatterns = [
    path("fora/", v.forum_list, name="forums"),
    path("fora/ny/", v.forum_new, name="forum_new"),
    path("fora/ny/lagre/", v.forum_create, name="forum_create"),
    path("fora/<str:code>/", v.forum_detail, name="forum"),
    path("fora/<str:code>/medlemmer/", v.forum_members, name="forum_members"),
    path("fora/<str:code>/medlemmer/legg-til/", v.forum_member_add, name="forum_member_add"),
    path("fora/<str:code>/medlemmer/fjern/", v.forum_member_remove, name="forum_member_remove"),
    path("fora/<str:code>/moter/ny/", v.meetings_new, name="forum_meetings_new"),
    path("fora/<str:code>/moter/lagre/", v.meetings_create, name="forum_meetings_create"),
    path("fora/mote/<str:code>/", v.forum_meeting, name="forum_meeting"),
    path("fora/mote/<str:code>/sak/", v.agenda_item_add, name="forum_agenda_add"),
    path("fora/mote/<str:code>/sak/fjern/", v.agenda_item_remove, name="forum_agenda_remove"),
    path("fora/mote/<str:code>/avlys/", v.meeting_cancel, name="forum_meeting_cancel"),
    path("fora/mote/<str:code>/referat/", v.minutes_record, name="forum_minutes"),
]
