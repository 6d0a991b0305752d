from django.urls import path

from lien.schedule import views

app_name = "schedule"
urlpatterns = [
    path("", views.presence_list, name="list"),
    path("nouvelle/", views.presence_create, name="create"),
    path("<int:pk>/modifier/", views.presence_edit, name="edit"),
    path("<int:pk>/supprimer/", views.presence_delete, name="delete"),
    path("<int:pk>/annulations/", views.exception_add, name="exception_add"),
    path(
        "<int:pk>/annulations/<int:exception_pk>/supprimer/",
        views.exception_delete,
        name="exception_delete",
    ),
]
