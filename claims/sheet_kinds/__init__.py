"""Sheet kinds of the claims app, one module per kind: ``hospitals`` (定点医疗机构目录) and
``claims`` (the hospitals' settlement lists); ``columns`` holds the code tables and cell parsers
they share. Importing the package registers both."""

from . import claims, hospitals  # noqa: F401
