from django.urls import path

from lien.site import views

app_name = "site"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("donnees/lieux-de-mediation-numerique.csv", views.opendata_csv, name="opendata_csv"),
    path("donnees/lieux-de-mediation-numerique.json", views.opendata_json, name="opendata_json"),
    path("equipe/", views.staff_home, name="staff_home"),
    path("equipe/<slug:structure_slug>/", views.staff_dashboard, name="staff_dashboard"),
    # Public pages of one structure; see RESERVED_SLUGS for the words a slug cannot take.
    path("<slug:structure_slug>/", views.structure_home, name="structure_home"),
    path("<slug:structure_slug>/theme.css", views.theme, name="theme"),
    path("<slug:structure_slug>/cette-semaine/", views.week, name="week"),
    path("<slug:structure_slug>/lieux/", views.places, name="places"),
    path("<slug:structure_slug>/lieux/<slug:place_slug>/", views.place_detail, name="place"),
]
