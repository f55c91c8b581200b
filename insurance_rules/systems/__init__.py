"""Formula families, one module per seed system (spec dianjiang.md, changzhi.md, leshan.md,
sanming.md, liaocheng.md). Each module registers its formulas with
``insurance_rules.registry.formula``; ``insurance_rules.settle.load_systems`` imports them all.
"""
