"""Typed results (issue 11, point 7): the library's public calls behind the API and the CLI return frozen
dataclasses whose ``to_dict()`` is the JSON the API and ``--json`` print. Fake encoders: no model."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from matcher.access import Viewer, VisibleGroup
from matcher.keys import KeyStore
from matcher.matching.proposals import BundlesResult, Proposal, RequirementCover, SingleInstitution
from matcher.records import DemandProfile
from service.app import create_app
from service.institutions import InstitutionCount, institution_listing
from service.settings import ServiceSettings
from service.state import load_engine

ADMIN = Viewer(role="admin", institution=None)
REQUIREMENTS = ("federated training of medical imaging models across hospitals", "CRISPR 현장 진단",
                "태양광 ESS 충방전")


@pytest.fixture(scope="module")
def app_and_key(fake_demo_index, fake_encoders, tmp_path_factory):
    keys_file = tmp_path_factory.mktemp("typed-keys") / "keys.json"
    key = KeyStore(keys_file).create("admin", None)[0]
    settings = ServiceSettings(index=fake_demo_index, keys_file=keys_file, reload_interval=0, audit_log="")
    engine = load_engine(settings, dict(fake_encoders))
    return create_app(settings, engine=engine), engine, key


def test_bundles_is_a_frozen_dataclass_and_its_dict_is_the_api_answer(app_and_key):
    app, engine, key = app_and_key
    result = engine.snapshot.matcher.bundles(DemandProfile(requirements=REQUIREMENTS), top_n=5)
    assert isinstance(result, BundlesResult) and result.bundles
    assert all(isinstance(b, Proposal) and all(isinstance(c, RequirementCover) for c in b.coverage)
               for b in result.bundles)
    assert result.single_institution is None or isinstance(result.single_institution, SingleInstitution)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.verdict = "none"  # type: ignore[misc]
    data = result.to_dict()
    assert list(data) == ["requirements", "gaps", "relevance_floor", "single_institution", "bundles", "verdict",
                          "message"]
    assert list(data["bundles"][0]) == ["kind", "members", "titles", "technologies", "institutions", "relevance",
                                        "covered", "score", "coverage", "gaps"]
    with TestClient(app) as client:
        answer = client.post("/api/bundles", json={"requirements": list(REQUIREMENTS), "top_n": 5},
                             headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200 and answer.json() == data


def test_groups_and_institutions_are_dataclasses(app_and_key):
    _, engine, _ = app_and_key
    snap = engine.snapshot
    groups = snap.visible_groups(ADMIN)
    assert groups and all(isinstance(g, VisibleGroup) for g in groups)
    assert list(groups[0].to_dict()) == ["id", "label", "terms", "members", "institutions", "size", "convergence"]
    listing = institution_listing(snap.version.technologies, None, snap.version.registry)
    assert listing and all(isinstance(i, InstitutionCount) for i in listing)
    assert listing[0].to_dict() == {"name": listing[0].name, "aliases": list(listing[0].aliases),
                                    "count": listing[0].count}
