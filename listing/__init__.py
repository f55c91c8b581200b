"""Admin lists that stay fast on large tables (issue 17): no Django app, no models.

- ``listing.paging.EstimatedCountPaginator``: the changelist's count from the planner's
  estimate on PostgreSQL when the list is large; exact when small and always on SQLite.
- ``listing.filters.RegionListFilter``: a related-field filter whose choices are read from
  the related table (limited by the admin's ``list_filter_limit`` hook, e.g. the user's
  regions), not from a DISTINCT scan of the listed table.

The bottom layer above the pure kernel (``.importlinter``): it imports Django only.
"""
