"""Firestore documents encoded straight to protobuf, for the write paths every request takes.

The Firestore client encodes each field through proto-plus wrappers: about 220 µs of CPU for a
15-field execution log on this machine class, most of the executor's cost of logging an
execution. Building the same `Write` protobufs directly takes about 40 µs, and the result is
identical (tests compare both, field for field, and read both back from the emulator). Values
of any type other than the plain ones below go through the client's own encoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.cloud.firestore_v1 import _helpers
from google.cloud.firestore_v1.types import document as document_types
from google.cloud.firestore_v1.types import write as write_types

_Document = document_types.Document.pb()
_Value = document_types.Value.pb()
_Write = write_types.Write.pb()


def value_pb(value: Any) -> Any:
    """One field's `Value` protobuf, as the client would encode it."""
    if value is None:
        return _Value(null_value=0)
    if value is True or value is False:
        return _Value(boolean_value=value)
    kind = type(value)
    if kind is int:
        return _Value(integer_value=value)
    if kind is float:
        return _Value(double_value=value)
    if kind is str:
        return _Value(string_value=value)
    if kind is dict:
        encoded = _Value()
        encoded.map_value.SetInParent()  # an empty map is still a map
        fields = encoded.map_value.fields
        for name, item in value.items():
            fields[name].CopyFrom(value_pb(item))
        return encoded
    if kind is datetime:
        encoded = _Value()
        encoded.timestamp_value.FromDatetime(value)
        return encoded
    return _helpers.encode_value(value)._pb  # lists, references, geo points, bytes, subclasses


def set_write_pb(document_path: str, data: Mapping[str, Any]) -> Any:
    """The `Write` that `batch.set(document, data)` (no merge) sends, as a raw protobuf."""
    document = _Document(name=document_path)
    fields = document.fields
    for name, value in data.items():
        fields[name].CopyFrom(value_pb(value))
    return write_types.Write.wrap(_Write(update=document))
