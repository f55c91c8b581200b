"""Errors of the calculation, with the trial-calc error codes (spec trial-calc.md)."""


def clip(text: str, limit: int = 40) -> str:
    """A value as an error message quotes it: at most ``limit`` characters, then its length
    (a 5 000-digit input is not copied whole into a message or an error report)."""
    return text if len(text) <= limit else f"{text[:limit]}…（共 {len(text)} 个字符）"


class CaseError(Exception):
    """A case that cannot be computed: ``code`` is one of ``invalid_input``,
    ``unknown_code``, ``missing_rule``, ``not_eligible``, ``window_closed``;
    ``message`` is Chinese and names the field or the missing parameter."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class InvalidInput(CaseError):
    def __init__(self, message: str):
        super().__init__("invalid_input", message)


class UnknownCode(CaseError):
    def __init__(self, message: str):
        super().__init__("unknown_code", message)


class MissingRule(CaseError):
    def __init__(self, message: str):
        super().__init__("missing_rule", message)


class NotEligible(CaseError):
    def __init__(self, message: str):
        super().__init__("not_eligible", message)


class WindowClosed(CaseError):
    def __init__(self, message: str):
        super().__init__("window_closed", message)
