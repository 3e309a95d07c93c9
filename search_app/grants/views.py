from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from search_app.config import CLASSIFICATION_LEVELS
from search_app.db import get_session
from search_app.grants.services import grants_of
from search_app.permissions import Permission, requires
from search_app.timeutil import utcnow

bp = Blueprint("grants", __name__, url_prefix="/grants")
LEVEL_NAMES = {v: k for k, v in CLASSIFICATION_LEVELS.items()}


@bp.route("/")
@requires(Permission.GRANT_READ_OWN)
def mine():
    now = utcnow()
    rows = [(g, g.inactive_reason(now)) for g in grants_of(get_session(), current_user)]
    return render_template("grants.html", rows=rows, level_names=LEVEL_NAMES)
