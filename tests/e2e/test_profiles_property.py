"""Property: whatever a vendor's server chooses where its seed is silent, orgctl plans the
same. Hypothesis draws a strict profile per example (page caps 20-50, default sizes, paging
keys or none, id style, field order) for all four emulators; examples/acme against the
live state of a perfect apply plans no change, and from empty one apply converges."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgctl.sandbox import Sandbox
from orgctl.sandbox.core import Profile
from tests.e2e.conftest import DEFAULT_OPTIONS, QUICK_WORKLEAP, copy_acme, run_orgctl

profiles = st.builds(
    Profile, name=st.just("strict"), strict=st.just(True),
    page_cap=st.integers(20, 50), default_size=st.sampled_from((5, 10, 20, 25)),
    paging_keys=st.booleans(), ids=st.sampled_from(("sparse", "uuid")),
    shuffle_fields=st.booleans(), seed=st.integers(0, 2**30))

SETTINGS = settings(max_examples=4, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def endpoints_of(box: Sandbox, path: Path) -> Path:
    path.write_text(json.dumps(box.endpoints()), encoding="utf-8")
    return path


@SETTINGS
@given(profile=profiles)
def test_a_matching_tenant_plans_no_change_whatever_the_server_chooses(
        profile: Profile, session_sandbox: Sandbox, _acme_seed: dict[str, Any],
        tmp_path_factory: Any) -> None:
    tmp = tmp_path_factory.mktemp("matching")
    box = session_sandbox.reset(copy.deepcopy(_acme_seed), options=DEFAULT_OPTIONS,
                                profile=profile)
    endpoints = endpoints_of(box, tmp / "sandbox.json")
    result = run_orgctl("plan", copy_acme(tmp), "--sandbox", endpoints,
                        "--detailed-exitcode")
    assert result.exit_code == 0, (profile, result.output)


@SETTINGS
@given(profile=profiles)
def test_an_empty_tenant_converges_in_one_apply_whatever_the_server_chooses(
        profile: Profile, session_sandbox: Sandbox, tmp_path_factory: Any) -> None:
    tmp = tmp_path_factory.mktemp("empty")
    box = session_sandbox.reset({"workleap": QUICK_WORKLEAP}, options=DEFAULT_OPTIONS,
                                profile=profile)
    endpoints = endpoints_of(box, tmp / "sandbox.json")
    root = copy_acme(tmp)
    applied = run_orgctl("apply", root, "--sandbox", endpoints, "--auto-approve",
                         "--no-progress")
    assert applied.exit_code == 0, (profile, applied.output)
    after = run_orgctl("plan", root, "--sandbox", endpoints, "--detailed-exitcode")
    assert after.exit_code == 0, (profile, after.output)
