"""Every reason code a layer or item can carry has a Chinese name (insurance_rules.vocab
.REASON_NAMES): the claim page, the printed 结算单 and the 试算 page show the name, never
the code (spec README §4: a layer that pays 0 says why)."""
import ast
from pathlib import Path

from insurance_rules.vocab import REASON_NAMES

PACKAGE = Path(__file__).resolve().parent.parent


def _strings(node) -> set[str]:
    """The string constants ``node`` can evaluate to (a constant, or either side of an
    ``a if c else b``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    if isinstance(node, ast.BoolOp):
        return set().union(*(_strings(v) for v in node.values))
    return set()


def reason_codes() -> set[str]:
    """The codes the rules' source gives as a reason: ``reason=…`` arguments, assignments
    to ``reason``, and the codes ``responsibilities.mismatch`` returns."""
    codes: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if "tests" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "reason":
                codes |= _strings(node.value)
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "reason" for t in node.targets):
                codes |= _strings(node.value)
            elif isinstance(node, ast.FunctionDef) and node.name == "mismatch":
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple):
                        codes |= _strings(ret.value.elts[0])
    return codes - {""}


def test_the_scan_finds_the_rules_reason_codes():
    codes = reason_codes()
    # one from each way a reason is given: a keyword, an assignment, mismatch's return
    assert {"rate_not_set", "limit_reached", "below_threshold", "hospital_not_designated"} <= codes


def test_every_reason_code_has_a_chinese_name():
    missing = sorted(reason_codes() - set(REASON_NAMES))
    assert not missing, f"REASON_NAMES 缺少：{missing}"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in name) for name in REASON_NAMES.values())
