"""Reading sessions: the reader chooses a grant and types the purpose once; every search, page
view, image and export after that names the session in its URL (never the purpose), so pages
are ordinary GET links that can be bookmarked, reloaded and gone back to. Results and page views
are cached per session (encrypted, short-lived) so Back and paging do not read again; what is
audited is each new read, and its record names the session."""
