"""The one type of componentize-py's runtime the SDK uses, for the data profile."""


class Err(Exception):
    """A host function's error result; `value` is the WIT error case."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value
