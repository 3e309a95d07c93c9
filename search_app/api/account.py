"""Who am I: the token's account, its roles and what they permit (so a client can show only
what the user may do, as the web navigation does)."""
from __future__ import annotations

from flask_login import current_user

from search_app.api import bp, iso
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.permissions import ROLE_LABELS, ROLE_PERMISSIONS, parse_roles, signed_in


@bp.get("/me")
@signed_in
@documented("当前令牌对应的账号、角色与权限", ok=s.Me, tag="账号")
def whoami():
    roles = parse_roles(current_user.role)
    perms = sorted({p.value for r in roles for p in ROLE_PERMISSIONS[r]})
    return {"id": current_user.id, "username": current_user.username,
            "display_name": current_user.display_name, "unit": current_user.unit or "",
            "roles": [{"code": r.value, "label": ROLE_LABELS[r]} for r in roles],
            "permissions": perms, "token_expires_at": iso(current_user.api_token_expires_at)}
