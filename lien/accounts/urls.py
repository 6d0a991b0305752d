from django.urls import path

from lien.accounts import views

app_name = "accounts"
urlpatterns = [
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", views.logout, name="logout"),
    path("double-authentification/", views.two_factor, name="two_factor"),
    path("codes-de-secours/", views.recovery_codes, name="recovery_codes"),
    path("securite/", views.security, name="security"),
]
