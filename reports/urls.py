"""URLs of the reports, mounted under /admin/reports/ behind the admin login
(``admin.site.admin_view``)."""
from django.contrib import admin
from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("export/<slug:key>.xlsx", admin.site.admin_view(views.export_view), name="export"),
    path("simulate/", admin.site.admin_view(views.simulate_view), name="simulate"),
    path("freeze/<int:plan_year_id>/", admin.site.admin_view(views.freeze_view), name="freeze"),
]
