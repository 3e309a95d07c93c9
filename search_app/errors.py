"""Every refusal says why: HTML pages for the browser, JSON for /api."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

TITLES = {400: "请求无效", 401: "需要登录", 403: "无权访问", 404: "未找到", 405: "方法不允许",
          413: "文件过大", 500: "服务器内部错误", 503: "服务暂不可用"}


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(status: int, message: str):
    if _wants_json():
        return jsonify(error=TITLES.get(status, "错误"), message=message, status=status), status
    return render_template("error.html", status=status, title=TITLES.get(status, "错误"),
                           message=message), status


def _http_error(exc: HTTPException):
    return render_error(exc.code or 500, exc.description or "")


def _csrf_error(exc: CSRFError):
    return render_error(400, "表单已失效（CSRF 校验失败），请刷新页面后重试")
