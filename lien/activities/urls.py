from django.urls import path

from lien.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("nouveau/", views.activity_create, name="create"),
    path("personnes/", views.people_search, name="people"),
    path("<id:pk>/", views.activity_detail, name="detail"),
    path("<id:pk>/modifier/", views.activity_edit, name="edit"),
    path("<id:pk>/dupliquer/", views.activity_duplicate, name="duplicate"),
    path("<id:pk>/supprimer/", views.activity_delete, name="delete"),
]
