"""Sheet kinds of the enrollment app (import and export through ``sheets``), one module per
kind: ``persons`` (参保人员), ``payments`` (缴费名单), ``registrations`` (门诊慢特病/两病申报),
``identities`` (特殊身份), ``relations`` (家庭关系), ``refunds`` (退费申请); ``columns`` holds the code tables they
share, ``rows`` the person lookup of the last three. Each kind declares its columns once:
the import reads them and the export resource is built from them
(``kind.resource_class``). Importing the package registers every kind."""

from . import identities, payments, persons, refunds, registrations, relations  # noqa: F401
