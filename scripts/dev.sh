#!/usr/bin/env bash
# One command from a fresh machine to a running service with demo data:
# installs what is missing, starts OpenSearch (secured) and Redis (password), a worker, migrates, loads the demo set
# through the worker and serves the app on http://127.0.0.1:${PORT:-5000}. Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh start
umask 077  # var/ (database, keys, logs, uploads, blobs) owner-only: dirs 0700, files 0600
set -a; . var/local.env; set +a
FLASK=".venv/bin/flask --app search_app"
$FLASK db-upgrade
$FLASK ensure-index
DEMO_MODE=true $FLASK demo --queue   # demo accounts have public passwords
PORT="${PORT:-5000}"
cat <<MSG

  档案检索系统 is running: http://127.0.0.1:$PORT
  demo logins (user / password):
    zhangsan / demo-staff-1    查询员，户籍档案+电子卷宗（海淀）授权
    lisi     / demo-staff-2    查询员，干部人事档案（组织部，秘密，两名审批人）授权
    shenpi   / demo-approver   审批人（审批待办）   shenpi2 / demo-approver-2  第二审批人
    anquan   / demo-secadmin   安全管理员（用户管理）
    shenji   / demo-auditor    安全审计员（审计日志、异常提示）
    admin    / demo-sysadmin   系统管理员（导入任务、OCR 复核）
  API token for zhangsan:  .venv/bin/flask --app search_app issue-token zhangsan
  stop the services:       bash scripts/services.sh stop

MSG
# the web process gets only the web user's engine password, as in compose (docs/security.md)
exec env -u OPENSEARCH_WORKER_PASSWORD -u OPENSEARCH_ADMIN_PASSWORD .venv/bin/gunicorn --bind "127.0.0.1:$PORT" --workers 2 --access-logfile - "search_app:create_app()"
