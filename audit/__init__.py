"""审计日志 (docs/security.md §审计日志): an append-only, tamper-evident record of who did
what — logins, exports and downloads, views of full identity numbers, imports,
settlements, approvals, parameter and permission changes.

Public surface:

- ``audit.services.audit_record(*, action, user=None, request=None, obj=None, details=None)``
  appends one entry (``audit.models.Action`` names the actions); every app calls it (the
  app sits low in the import layers: sheets, jobs and every app above may import it);
- ``audit.services.audit_verify()`` walks the chain; ``manage.py audit_verify``;
- ``audit.services.audit_prune(before=..., acting_user=...)``; ``manage.py audit_prune``;
- ``audit.admin_hooks.AuditedChangesMixin``: records an admin's saves and deletions;
- ``audit.providers``: what the audit page needs from apps above it, registered at
  start-up — the spreadsheet writer (``sheets``) and who reads numbers in full
  (``policies``' masking rules).
"""
