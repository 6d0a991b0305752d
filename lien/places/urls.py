from django.urls import path

from lien.places import views

app_name = "places"
urlpatterns = [
    path("", views.place_list, name="list"),
    path("nouveau/", views.place_create, name="create"),
    path("importer/", views.place_import, name="import"),
    path("<id:pk>/modifier/", views.place_edit, name="edit"),
    path("<id:pk>/supprimer/", views.place_delete, name="delete"),
    path("<id:pk>/horaires/", views.place_hours, name="hours"),
    path("<id:pk>/fermetures/", views.closure_add, name="closure_add"),
    path(
        "<id:pk>/fermetures/<id:closure_pk>/supprimer/",
        views.closure_delete,
        name="closure_delete",
    ),
]
