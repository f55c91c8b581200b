"""Spreadsheet import/export framework (issue 6; spec README §6 bad input: a file import is
all-or-nothing and every bad row is reported at once).

``readers`` stream rows of xlsx/csv files, ``parsing`` turns cells into Python values
(codes or Chinese names, Chinese date forms, Decimal amounts), ``engine`` validates a
whole file and only then writes it in bulk in one transaction, ``registry`` holds the
kinds (persons, payments, … registered by the apps in their ``sheet_kinds`` module) and
``writers`` write exports, templates and error reports. docs/spreadsheets.md.
"""
