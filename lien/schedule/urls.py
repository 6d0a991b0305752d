from django.urls import path

from lien.schedule import views

app_name = "schedule"
urlpatterns = [
    path("", views.presence_list, name="list"),
    path("nouvelle/", views.presence_create, name="create"),
    path("<id:pk>/modifier/", views.presence_edit, name="edit"),
    path("<id:pk>/supprimer/", views.presence_delete, name="delete"),
    path("<id:pk>/annulations/", views.exception_add, name="exception_add"),
    path(
        "<id:pk>/annulations/<id:exception_pk>/supprimer/",
        views.exception_delete,
        name="exception_delete",
    ),
]
