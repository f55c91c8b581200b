"""The settlement calculation as pure Python (no Django import).

Parameters are resolved for a date first (``policies.selectors`` builds the frozen
dataclasses of ``params``), then the formulas run on plain values and record which
parameter rows and values they used.
"""
