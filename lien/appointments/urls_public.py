"""Residents' booking, at the site root (included before the site's own `<slug>/` pages).

`rdv` and `r` are reserved structure slugs, so `/rdv/<token>/` and `/r/<token>` (the short form
of the same link, for SMS) never shadow a structure's page.
"""

from django.urls import path

from lien.appointments import views_public as views

app_name = "booking"
urlpatterns = [
    path("<slug:structure_slug>/rendez-vous/", views.start, name="start"),
    path("<slug:structure_slug>/rendez-vous/<id:motif_pk>/", views.place, name="place"),
    path(
        "<slug:structure_slug>/rendez-vous/<id:motif_pk>/<id:place_pk>/creneaux/",
        views.slots,
        name="slots",
    ),
    path(
        "<slug:structure_slug>/rendez-vous/<id:motif_pk>/<id:place_pk>/reserver/",
        views.book,
        name="book",
    ),
    path("r/<str:token>", views.short_link, name="short"),
    path("rdv/<str:token>/", views.manage, name="manage"),
    path("rdv/<str:token>/annuler/", views.cancel, name="cancel"),
    path("rdv/<str:token>/changer/", views.move, name="move"),
]
