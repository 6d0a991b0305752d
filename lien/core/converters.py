"""URL path converters.

`<id:pk>` is a database id: 1 to 18 ASCII digits, so it always fits a 64-bit key. A longer
number is not a match (404), never an integer overflow in the database (a server error).
"""

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(int(value))


def register() -> None:
    register_converter(IdConverter, "id")
