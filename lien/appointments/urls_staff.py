from django.urls import path

from lien.appointments import views_staff as views

app_name = "agenda"
urlpatterns = [
    path("", views.agenda, name="agenda"),
    path("nouveau/", views.book, name="book"),
    path("sans-rendez-vous/", views.walk_in, name="walk_in"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/annuler/", views.cancel, name="cancel"),
    path("<id:pk>/deplacer/", views.move, name="move"),
    path("<id:pk>/statut/", views.set_status, name="status"),
    path("motifs/", views.motif_list, name="motifs"),
    path("motifs/nouveau/", views.motif_edit, name="motif_create"),
    path("motifs/<id:pk>/", views.motif_edit, name="motif_edit"),
    path("absences/", views.absence_list, name="absences"),
    path("absences/<id:pk>/supprimer/", views.absence_delete, name="absence_delete"),
    path("messages/", views.message_log, name="messages"),
    path("agenda-ics/", views.calendar_feed, name="feed"),
]
