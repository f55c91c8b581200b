"""Formula families, one module per seed system (spec dianjiang.md, changzhi.md, leshan.md,
sanming.md, liaocheng.md). Each module registers its formulas with
``claims.engine.registry.formula``; ``claims.engine.settle.load_systems`` imports them all.
"""
