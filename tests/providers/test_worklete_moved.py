"""`_moved`, the copy `WorkleteProvider.match_live` makes of each live object under its
config key, is `dataclasses.replace` written out: it must carry every field of a Resource."""

from __future__ import annotations

from dataclasses import fields, replace

from orgctl.providers.worklete.provider import RESOURCE_FIELDS, _moved
from orgctl.resources import Resource


def test_moved_copies_every_field_of_a_resource() -> None:
    assert tuple(f.name for f in fields(Resource)) == RESOURCE_FIELDS
    live = Resource(kind="membership", key="id:7", attrs={"email": "a@x.io"},
                    identities=("email:a@x.io",), refs={"team": "w.team.t"}, remote_id="7",
                    protected=True, source="hrms", server={"team_ids": ["1"]},
                    unknown=frozenset({"teams"}))
    assert _moved(live, "EMP-1") == replace(live, key="EMP-1")
    changed = {"attrs": {"email": "b@x.io"}, "identities": ("email:b@x.io",),
               "server": {"team_ids": []}}
    assert _moved(live, "EMP-2", **changed) == replace(live, key="EMP-2", **changed)
