"""Views of the enrollment app (the staff UI is the admin; see enrollment/admin.py)."""
