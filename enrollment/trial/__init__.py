"""``trial_calc`` cases of the enrollment app: ``contributions`` (kind ``contribution``) and
``registrations`` (kind ``registration``), each a dict in and a JSON-ready dict out."""
