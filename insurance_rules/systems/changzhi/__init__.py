"""长治市 (region 140400) formula families (spec changzhi.md).

Importing this package registers ``changzhi_resident``, ``changzhi_employee_basic``
(basic.py), ``changzhi_employee_large`` (large.py), ``changzhi_critical`` (critical.py)
and ``changzhi_assistance`` (assistance.py) in ``insurance_rules.registry.FORMULAS``.
Interpretation decisions: docs/changzhi-decisions.md.
"""
from . import assistance, basic, critical, large  # noqa: F401  (registration)
