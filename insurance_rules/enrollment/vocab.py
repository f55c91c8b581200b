"""Chinese names of the codes the contribution rules write into messages (codes.md).

The rules are pure Python and cannot read ``policies.codes``; these are the same codes
and names (vocabulary, not policy numbers). ``test_vocab`` checks they agree.
"""

CATEGORY_NAMES = {
    "employee_active": "在职职工",
    "employee_retired": "退休人员",
    "flexible": "灵活就业人员",
    "resident": "城乡居民",
    "student": "在校学生/在园幼儿",
    "newborn": "新生儿",
}

CHANNEL_NAMES = {
    "personal_account": "职工医保个人账户代扣",
    "family_account": "家庭共济账户",
    "employer": "单位缴纳",
    "tax_app": "税务APP/电子税务局/公众号",
    "wechat": "微信",
    "alipay": "支付宝",
    "unionpay": "云闪付",
    "bank": "银行柜台/网银/手机银行",
    "service_center": "便民服务中心/村(社区)代收",
    "cash": "现金",
    "government": "财政资助",
    "charity": "慈善捐赠",
}

RELATION_NAMES = {
    "self": "本人",
    "spouse": "配偶",
    "child": "子女",
    "parent": "父母",
    "spouse_parent": "配偶的父母",
    "sibling": "兄弟姐妹",
    "guardian": "监护人",
    "other": "其他",
}

TIER_NAMES = {0: "不分档", 1: "一档", 2: "二档"}

EMPLOYEE_CATEGORIES = ("employee_active", "employee_retired")
"""在职职工 and 退休人员 hold the region's employee_basic by definition (trial-calc.md)."""

EMPLOYEE_BASIC_CATEGORIES = ("employee_active", "employee_retired", "flexible")
"""Categories insured in employee_basic (乐山 employee_supplementary, leshan.md)."""

BASIC_KINDS = ("employee_basic", "resident_basic")
