"""Errors of the calculation, with the trial-calc error codes (spec trial-calc.md)."""


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
