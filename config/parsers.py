"""The API's JSON parser: DRF's, with a body nested past Python's recursion limit refused as a 400."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json raises it past ~1,000 levels; DRF only turns ValueError into a 400.
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
