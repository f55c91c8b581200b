"""Rows of enrollment's person and payment sheets for the import and export tests
(headers as the kinds declare them; valid ID numbers of 垫江 by sequence number)."""
from __future__ import annotations

from datetime import date

from enrollment.documents import make_id_number

PERSON_HEADER = ["证件号码", "姓名", "人员类别", "户籍所在地", "常住地", "联系电话"]
PAYMENT_HEADER = ["证件号码", "姓名", "统筹区", "险种", "年度", "档次", "缴费日期", "应缴金额",
                  "资助金额", "个人缴费", "缴费渠道", "票据/流水号"]


def id_number(seq: int, *, birth=date(1980, 6, 15), area="500231") -> str:
    return make_id_number(area, birth, seq)


def person_row(seq: int, *, name=None, category="城乡居民", region="垫江县", phone="13800001234"):
    return [id_number(seq), name or f"测试{seq}", category, region, region, phone]


def payment_row(seq: int, *, receipt=None, paid="2023-12-01", due="380.00", subsidy="0",
                self_paid="380.00", tier="一档", channel="微信", region="500231",
                scheme="城乡居民基本医疗保险", year=2024, name=None):
    return [id_number(seq), name or f"测试{seq}", region, scheme, year, tier, paid, due, subsidy,
            self_paid, channel, receipt or f"R{seq:06d}"]
