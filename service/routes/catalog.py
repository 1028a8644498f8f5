"""What a key may see of the served version: ``me``, ``index``, ``groups``, ``technologies/{id}``,
``institutions``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from service.deps import SnapshotDep, ViewerDep
from service.institutions import institution_listing
from service.redact import technology_for_officers
from service.routes.problems import API_ERRORS, TECH_NOT_FOUND
from service.schemas import IndexManifest, InstitutionInfo, Me, TechnologyGroup, TechnologyRecord

router = APIRouter(prefix="/api", responses=API_ERRORS)


@router.get("/me", response_model=Me, tags=["service"], summary="The calling key's role and institution")
def me(viewer: ViewerDep) -> Me:
    return Me(role=viewer.role, institution=viewer.institution)


@router.get("/index", response_model=IndexManifest, tags=["service"], summary="The served index version's manifest",
            description="Counts cover only the technologies the calling key may see.")
def index_info(viewer: ViewerDep, snap: SnapshotDep) -> JSONResponse:
    # the manifest is an open document (its keys grow with the build): sent as it is, documented by IndexManifest
    return JSONResponse(content=jsonable_encoder(snap.manifest_for(viewer)))


@router.get("/groups", response_model=list[TechnologyGroup], tags=["matching"],
            summary="Convergence patent groups (특허군)",
            description="Members the calling key may not see are left out (and groups left empty).")
def groups(viewer: ViewerDep, snap: SnapshotDep) -> list[dict[str, Any]]:
    return [g.to_dict() for g in snap.visible_groups(viewer)]


@router.get("/technologies/{tech_id}", response_model=TechnologyRecord, tags=["search"],
            summary="One technology record", responses=TECH_NOT_FOUND)
def technology(tech_id: Annotated[str, PathParam(max_length=128, examples=["DEMO-0001"])],
               viewer: ViewerDep, snap: SnapshotDep) -> dict[str, Any]:
    record = snap.technology(tech_id, viewer).to_dict()
    return record if viewer.is_admin else technology_for_officers(record)  # no server paths for officers


@router.get("/institutions", response_model=list[InstitutionInfo], tags=["service"],
            summary="Institutions with technologies the calling key may see (for filters)",
            description="Canonical names, their other spellings and the number of visible technologies.")
def institutions(viewer: ViewerDep, snap: SnapshotDep) -> list[dict[str, Any]]:
    return [i.to_dict() for i in institution_listing(snap.version.technologies, snap.visible(viewer),
                                                     snap.version.registry)]
