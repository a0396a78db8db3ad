"""What the commandable route takes as a command's body, and how it reads it (pip_services3_rpc 3.3.4's
RestService._get_data and pip_services3_commons 3.3.14's Parameters got it wrong): one bounded JSON object."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

import json
import re
from collections.abc import Collection
from itertools import accumulate
from typing import Any

import bottle
from pip_services3_commons.errors import BadRequestException
from pip_services3_commons.run import Parameters

# What a command's body may hold (read_json_object): arrays and objects nested at most this deep (the body itself
# is level 1), and at most this many properties in any object. Commands take a few flat parameters.
MAX_BODY_DEPTH = 32
MAX_BODY_PROPERTIES = 16


def read_json_object(
    correlation_id: str | None, parameters: Collection[str] = (), max_size: int | None = None
) -> dict[str, Any]:
    """The current request's body as the parameters of a command: one JSON object, or none for an empty body.

    pip_services3_rpc 3.3.4 RestService._get_data (which CommandableHttpService's handlers use) reads the body
    only when its Content-Type is application/json (else the parameters silently become {}), decodes a body that
    is a JSON string a second time, and takes a list or a number as parameters; a malformed body or a string that
    is not JSON became a 500. Here the body is read whatever its Content-Type, up to `max_size` bytes or bottle's
    MEMFILE_MAX, whichever is less (MEMFILE_MAX is the stock endpoint's only body limit; GranianHttpEndpoint
    raises it to its own and refuses larger bodies before), and anything but an
    object is a BadRequestException: INVALID_JSON (not UTF-8 JSON), BODY_NOT_OBJECT, or BODY_TOO_LARGE with
    status 413. And the body is bounded before anything works on it (see json_object_pairs): BODY_TOO_DEEP,
    TOO_MANY_PROPERTIES, and <PARAMETER>_REPEATED for one of the command's `parameters` given twice in an object
    (NAME_REPEATED, as the REST route's query answers it), PROPERTY_REPEATED for any other key.
    """
    limit = bottle.request.MEMFILE_MAX if max_size is None else min(max_size, bottle.request.MEMFILE_MAX)
    too_large = BadRequestException(correlation_id, "BODY_TOO_LARGE", f"Body is larger than {limit} bytes")
    if bottle.request.content_length > limit:
        raise too_large.with_status(413)
    body = bottle.request.body.read(limit + 1)
    if len(body) > limit:  # a chunked body has no Content-Length to check first
        raise too_large.with_status(413)
    if not body.strip(JSON_WHITESPACE):
        return {}
    try:
        text = body.decode("utf-8")  # strictly: json.loads would take UTF-8's form of a surrogate ("surrogatepass")
    except UnicodeDecodeError:
        raise BadRequestException(correlation_id, "INVALID_JSON", "Body is not valid JSON") from None
    if json_depth(body) > MAX_BODY_DEPTH:
        raise BadRequestException(
            correlation_id, "BODY_TOO_DEEP", f"Body must nest arrays and objects at most {MAX_BODY_DEPTH} deep"
        )
    try:
        data = json.loads(text, object_pairs_hook=lambda pairs: json_object_pairs(pairs, parameters, correlation_id))
    except ValueError:
        raise BadRequestException(correlation_id, "INVALID_JSON", "Body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequestException(correlation_id, "BODY_NOT_OBJECT", "Body must be a JSON object")
    return data


# What JSON calls whitespace (RFC 8259): bytes.strip() would take a form feed or a vertical tab for it as well.
JSON_WHITESPACE = b" \t\n\r"

# A JSON string as far as it goes (to its closing quote, or to the end of an unterminated one), possessively: no
# backtracking, so a scan is linear whatever the body.
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\[\s\S][^"\\]*+)*+"?')
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of the UTF-8 JSON text `body` nest (0: a scalar, 1: `{}`), without parsing it.

    Python 3.11's json.loads (C scanner) recurses per level and raises RecursionError, not ValueError, past about
    1,000 levels (2 KB of "["): a 500 with a traceback; and a value nested a few hundred deep that it does parse can
    break what handles it next (validation, the error's details as JSON). For a text json.loads can parse, brackets
    outside strings are exactly its levels; any other text fails in json.loads no deeper than counted here.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def json_object_pairs(
    pairs: list[tuple[str, Any]], parameters: Collection[str], correlation_id: str | None
) -> dict[str, Any]:
    """json.loads' object_pairs_hook for a command's body: the object, refused when it has too many properties or
    one twice.

    json.loads keeps the last value of a repeated key ({"name": "a", "name": "b"} greeted "b", where the REST route
    refuses ?name=a&name=b), and pip_services3_commons 3.3.14 ObjectSchema validates every property of an object and
    quotes each unexpected one (10,000 of them cost about 1 s of the event loop), so an object with more than
    MAX_BODY_PROPERTIES properties is refused before any validation.
    """
    if len(pairs) > MAX_BODY_PROPERTIES:
        raise BadRequestException(
            correlation_id,
            "TOO_MANY_PROPERTIES",
            f"An object in the body may have at most {MAX_BODY_PROPERTIES} properties",
        )
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen and key in parameters:
            raise BadRequestException(
                correlation_id, f"{key.upper()}_REPEATED", f"Give the {key} parameter at most once"
            )
        if key in seen:
            raise BadRequestException(
                correlation_id, "PROPERTY_REPEATED", "Give each property of an object at most once"
            )
        seen.add(key)
    data = dict(pairs)
    return data


def command_parameters(body: dict[str, Any]) -> Parameters:
    """A command's Parameters holding exactly the keys of `body`.

    pip_services3_commons 3.3.14 Parameters.from_value (and its constructor) drop an empty key and split a
    dotted one into nested maps ({"": 1} became {}, {"a.b": 1} became {"a": {"b": 1}}), so a schema that rejects
    unexpected properties never saw them and {"": "x"} got the default greeting.
    """
    parameters = Parameters()
    parameters.update(body)
    return parameters
