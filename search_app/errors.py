"""Every refusal says why: HTML pages for the browser, JSON for /api."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

TITLES = {400: "请求无效", 401: "需要登录", 403: "无权访问", 404: "未找到", 405: "方法不允许", 409: "状态冲突",
          413: "文件过大", 429: "请求过于频繁", 500: "服务器内部错误", 503: "服务暂不可用"}
# What to say when the code raising the error gave no reason of its own (werkzeug's defaults
# are English).
DEFAULT_MESSAGES = {
    400: "请求无法处理：参数缺失或格式不对。", 401: "请先登录。", 403: "您没有访问此页面的权限。",
    404: "您访问的页面或资源不存在，请检查地址，或从首页重新进入。",
    405: "此地址不接受这种请求方式（例如页面只能通过表单提交打开）。请从首页或检索页重新进入。",
    409: "对象的当前状态不允许此操作（例如申请已被处理）。", 413: "上传的内容超过大小上限。", 429: "请求过于频繁，请稍后再试。",
    500: "服务器内部错误，已记录。请稍后重试；如果问题持续，请联系系统管理员。",
    503: "服务暂不可用，请稍后再试。",
}


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    if not app.config.get("TESTING"):  # tests want the real exception, not a page
        app.register_error_handler(Exception, _internal_error)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(status: int, message: str):
    if _wants_json():
        return jsonify(error=TITLES.get(status, "错误"), message=message, status=status), status
    return render_template("error.html", status=status, title=TITLES.get(status, "错误"),
                           message=message), status


def _http_error(exc: HTTPException):
    code = exc.code or 500
    own = exc.description and exc.description != type(exc).description
    return render_error(code, exc.description if own else DEFAULT_MESSAGES.get(code, TITLES.get(code, "错误")))


def _internal_error(exc: Exception):
    """An unexpected error: the Chinese 500 page (the traceback goes to the log, not the user)."""
    from flask import current_app

    current_app.logger.exception("unhandled error: %s", exc)
    return render_error(500, DEFAULT_MESSAGES[500])


def _csrf_error(exc: CSRFError):
    return render_error(400, "表单已失效（CSRF 校验失败），请刷新页面后重试")
