"""The formula families a scheme can be settled with.

A scheme's ``formula`` (a policy row on ``policies.Scheme``) names the family of rules
its seed document describes; the numbers come from the plan year's rows. Implementations
register themselves in ``insurance_rules.registry``.
"""

FORMULA_CHOICES = [
    ("given_only", "仅带入结果（种子文件无本层规则，须带入医院结算结果）"),
    ("chongqing_resident", "重庆（垫江）城乡居民基本医保：门诊统筹、住院、生育"),
    ("chongqing_critical", "重庆（垫江）城乡居民大病保险"),
    ("changzhi_employee_basic", "长治职工基本医保：门诊慢特病（住院、门诊统筹须带入）"),
    ("changzhi_employee_large", "长治职工大额医疗费用补助（比例须带入）"),
    ("changzhi_resident", "长治城乡居民基本医保：门诊统筹、两病、慢特病、住院、生育"),
    ("changzhi_critical", "长治城乡居民大病保险（两段累进）"),
    ("changzhi_assistance", "长治城乡医疗救助"),
    ("leshan_supplementary", "乐山职工补充医疗保险"),
    ("sanming_inclusive", "三明普惠医联保"),
    ("liaocheng_inclusive", "聊惠保"),
]
