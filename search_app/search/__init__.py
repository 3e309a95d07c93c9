"""Every read of archive content on behalf of a user: search, export, page view, unmask, exact
PII look-up and page image. Each runs through `_choke.guarded_read` (grant checked now →
permission filter → query → audit record committed → field redaction); nothing else queries
OpenSearch or decrypts page text for a user. Views and the API call only these functions.

A facade: search and export live in _results, page view and unmask in _pages, page images in
_images, exact look-up in _lookup; callers import them from here.
"""
from __future__ import annotations

from indexer.vocab import LOOKUP_KINDS
from search_app.search._catalogue import Catalogue, catalogue
from search_app.search._choke import ReadDenied, ReadFailed, SearchUnavailable
from search_app.search._hits import FileHit, SearchHit
from search_app.search._images import (image_url_token, load_page_image, page_image, page_image_for,
                                       read_page_image, served_image)
from search_app.search._lookup import lookup_pii, lookup_value_problem
from search_app.search._pages import PageView, _fetch_page, unmask_page, view_page  # noqa: F401
from search_app.search._parse import InvalidInput, QuerySyntaxError
from search_app.search._query import GROUPS, SORTS
from search_app.search._results import (FILE_PAGES_SHOWN,  # noqa: F401 (importable here as before)
                                        SearchOutcome, export_results, search_pages)

__all__ = ["ReadDenied", "ReadFailed", "SearchUnavailable", "InvalidInput", "QuerySyntaxError", "SORTS", "GROUPS", "SearchHit", "FileHit", "SearchOutcome", "PageView",
           "LOOKUP_KINDS", "search_pages", "export_results", "view_page", "unmask_page",
           "lookup_pii", "page_image", "page_image_for", "load_page_image", "served_image",
           "image_url_token", "Catalogue", "catalogue", "read_page_image", "lookup_value_problem"]

