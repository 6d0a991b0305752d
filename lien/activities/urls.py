from django.urls import path

from lien.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("nouveau/", views.activity_create, name="create"),
    path("personnes/", views.people_search, name="people"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/modifier/", views.activity_edit, name="edit"),
    path("<int:pk>/dupliquer/", views.activity_duplicate, name="duplicate"),
    path("<int:pk>/supprimer/", views.activity_delete, name="delete"),
]
