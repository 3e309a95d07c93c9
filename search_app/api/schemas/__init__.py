"""Request and response bodies of /api/v1 as pydantic models: the OpenAPI components are
generated from these classes, request bodies are parsed by them (search_app.api._doc), and the
API tests validate every live response against their JSON Schema (see docs/api.md, "Adding a
route").

Inputs are strict (`"grant_id": "1"` is refused, not coerced) and closed (an unknown field is
refused, so a typo such as `grnat_id` is explained instead of ignored).

The models are grouped by area in this package's modules and re-exported here, so routes
write `s.GrantList`. Add a model to the module of its area (or a new one) and re-export it
below; the OpenAPI document takes the models the routes declare (search_app.api.openapi).
"""
from __future__ import annotations

from search_app.api.schemas._base import (  # noqa: F401
    Input, Output, ErrorBody, OpenApiDocument)
from search_app.api.schemas.account import (  # noqa: F401
    RoleOut, Me)
from search_app.api.schemas.grants import (  # noqa: F401
    GrantOut, GrantList, GrantRequestOut, GrantRequestList, GrantRequestBody, DecisionBody,
    ConfirmBody, RevokeBody, Catalogue)
from search_app.api.schemas.reads import (  # noqa: F401
    SearchOptions, SearchBody, Hit, FacetValue, Chip, FileResult, SearchResult, PageBody,
    PageText, PageOut, LookupValue, LookupBody, LookupResult)
from search_app.api.schemas.ingest import (  # noqa: F401
    IngestPageOut, IngestFileOut, IngestJob, PageQuery, IngestJobRow, IngestJobList, ReviewQuery,
    ReviewPage, ReviewList, MarkReviewedBody, MarkReviewedOut, UploadForm, UploadAccepted)
from search_app.api.schemas.audit import (  # noqa: F401
    AuditQuery, AuditRecordOut, AuditPage, AnomalyQuery, FlagOut, AnomalyList, ChainReportOut,
    MatchBody, MatchOut, Paging, AuditFilters, AuditExportQuery, UserActivityQuery, ActionCount,
    UserActivity)
from search_app.api.schemas.sessions import (  # noqa: F401
    SessionOpenBody, SessionOut, SessionSearchQuery, SessionSearchResult, SessionPageQuery,
    SessionPageOut, SessionImageQuery, ExportBody, InSession, BrowseQuery, BrowseEntry, BrowseOut,
    SessionList, SessionLookupBody, SessionLookupResult, CsvExportBody)
from search_app.api.schemas.catalogue import (  # noqa: F401
    CatalogueEntryOut, ArchiveNoRuleOut, CatalogueOut, CatalogueAddBody, CatalogueRenameBody,
    CatalogueEnableBody, ArchiveNoRuleBody)
from search_app.api.schemas.register import (  # noqa: F401
    RegisterQuery, RegisterEntryOut, RegisterEntries, StatCell, RegisterStats, OutcomeBody)
from search_app.api.schemas.retention import (  # noqa: F401
    DueFileOut, AppraisalList, DestructionRequestOut, DestructionRequestList, DestroyedFileOut,
    DestroyedList, DestructionBody, DenyBody)
from search_app.api.schemas.qa import (  # noqa: F401
    QaScopeQuery, QaQueueQuery, QaPageQuery, QaScopeOut, QaReviewOut, QaMismatchOut, QaQueue,
    QaVersionOut, QaPageOut, QaActionBody, QaActionOut, BatchStatsOut, QaStats, QaScopeList,
    QaScopeBody)
from search_app.api.schemas.admin import (  # noqa: F401
    AdminUserOut, AdminUserList, AccountChangeOut, AccountChangeList, AccountOutcome,
    DecisionOutcome, ThrottleOut, ThrottleList, UserCreateBody, UserUpdateBody, UserActionBody,
    AccountDecisionBody, ThrottleLiftBody)
