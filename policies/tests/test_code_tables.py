"""The code tables of ``policies.codes`` read from a spreadsheet cell by the framework's
``CodeTable`` (sheets.parsing): code, Chinese name, alias, full-width forms."""
import pytest

from policies import codes
from sheets.parsing import CellError, CodeTable


def test_code_table_accepts_code_name_and_alias_and_lists_choices_when_unknown():
    table = CodeTable("缴费渠道", codes.Channel.choices, {"税务APP": "tax_app"})
    assert table("wechat") == "wechat"
    assert table(" 微信 ") == "wechat"
    assert table("税务app") == "tax_app"
    assert table("税务APP/电子税务局/公众号") == "tax_app"
    assert table("便民服务中心／村（社区）代收") == "service_center"  # full-width forms
    with pytest.raises(CellError) as exc:
        table("信用卡")
    assert "未知的缴费渠道“信用卡”" in exc.value.message and "微信" in exc.value.message
    assert "wechat" not in exc.value.message  # names only: the codes are for files, not for people
