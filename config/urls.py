"""URLs: the admin (the whole site), its report pages and the login's second-factor pages
(``/admin/otp/``, accounts/urls.py); ``/`` opens the admin.

Error pages: ``handler403`` shows a refusal's Chinese message; 404/500 and CSRF failures
use Django's views with the templates in ``templates/`` (docs/access.md §错误页).
"""
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

handler403 = "config.views.permission_denied"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path('admin/reports/', include('reports.urls')),
    path('admin/otp/', include('accounts.urls')),  # two-step verification, keep-alive
    path('admin/', admin.site.urls),
]
