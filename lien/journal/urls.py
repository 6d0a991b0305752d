from django.urls import path

from lien.journal import views

app_name = "journal"
urlpatterns = [
    path("", views.journal_list, name="list"),
]
