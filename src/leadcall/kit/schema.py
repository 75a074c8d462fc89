"""Base for wire models: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic.alias_generators import to_camel


class Schema(BaseModel):
    # No number of leadcall is infinite or not a number: `nan` would pass every bound (it compares false).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True,
                              allow_inf_nan=False)


# Text a person types, without the spaces around it: a name of only spaces is then an empty (missing) name.
Trimmed = Annotated[str, StringConstraints(strip_whitespace=True)]
# A key, secret or account id as a provider issues it: printable ASCII without spaces (it travels in HTTP
# headers, which take nothing else); the spaces around a pasted one are dropped. Empty is allowed (it may mean
# "remove"); each field sets its own length.
Credential = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[!-~]*$")]
