"""The names of audited events (warehouse names its events): one enum, with the Chinese label an
auditor reads. `record_event` refuses a name that is not declared here, so a typo cannot start a
new, unfiltered kind of record. Values are the strings stored in the log."""
from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    SEARCH = "search"
    EXPORT = "export"
    PAGE_VIEW = "page.view"
    PAGE_UNMASK = "page.unmask"
    PAGE_IMAGE = "page.image"
    PII_LOOKUP = "pii.lookup"
    EXPORT_PDF = "export.pdf"
    READING_OPEN = "reading.open"
    READING_CLOSE = "reading.close"
    LOGIN = "auth.login"
    LOGOUT = "auth.logout"
    LOGOUT_ALL = "auth.logout_all"
    THROTTLE_LIFT = "auth.throttle_lift"  # a security admin lifts a login delay
    GRANT_REQUEST = "grant.request"
    GRANT_APPROVE = "grant.approve"
    GRANT_DENY = "grant.deny"
    GRANT_REVOKE = "grant.revoke"
    GRANT_WITHDRAW = "grant.withdraw"
    GRANT_LAPSE = "grant.lapse"
    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    USER_UNLOCK = "user.unlock"
    USER_END_SESSIONS = "user.end_sessions"
    USER_RESET_PASSWORD = "user.reset_password"
    USER_CLEAR_IDENTITY = "user.clear_identity"
    USER_CONFIRM_CHANGE = "user.confirm_change"  # dual control: a second security admin
    USER_REJECT_CHANGE = "user.reject_change"
    USER_ISSUE_TOKEN = "user.issue_token"
    CLI_ENSURE_INDEX = "cli.ensure_index"
    CLI_INGEST = "cli.ingest"
    CLI_REOCR = "cli.reocr"
    CLI_ROTATE_KEYS = "cli.rotate_keys"
    CLI_DEMO = "cli.demo"
    BACKUP_CREATE = "backup.create"  # flask backup, or beat's scheduled backup
    BACKUP_RESTORE = "backup.restore"
    CLI_REINDEX = "cli.reindex"
    AUDIT_VIEW = "audit.view"
    AUDIT_USER_VIEW = "audit.user_view"
    AUDIT_ANOMALIES = "audit.anomalies"
    AUDIT_EXPORT = "audit.export"
    AUDIT_ALERT = "audit.alert"
    INGEST_JOB_STARTED = "ingest.job_started"
    INGEST_PAGE_REVIEWED = "ingest.page_reviewed"
    INGEST_BATCHES_REMOVED = "ingest.batches_removed"
    INGEST_METADATA_CHANGE = "ingest.metadata_change"  # a re-ingest changing 单位/门类/密级/当事人
    REGISTER_VIEW = "register.view"  # 利用登记 and its statistics
    REGISTER_EXPORT = "register.export"
    REGISTER_ANNOTATE = "register.annotate"  # 利用效果
    APPRAISAL_VIEW = "retention.appraisal_view"  # 到期鉴定
    DESTRUCTION_REQUEST = "retention.destruction_request"
    DESTRUCTION_APPROVE = "retention.destruction_approve"
    DESTRUCTION_DENY = "retention.destruction_deny"
    DESTRUCTION_EXECUTE = "retention.destruction_execute"
    FILE_KEY_DESTROYED = "retention.file_key_destroyed"  # one per file: its data key is gone
    DESTRUCTION_REAPPLY = "retention.destruction_reapply"  # after a restore: destroyed stays destroyed
    DESTRUCTION_REGISTER_VIEW = "retention.register_view"  # 销毁清册


# A refused route is recorded as "route:<endpoint>" (permissions.requires): the endpoint names it.
ROUTE_PREFIX = "route:"

READ_ACTIONS = frozenset({Action.SEARCH, Action.EXPORT, Action.PAGE_VIEW, Action.PAGE_UNMASK,
                          Action.PAGE_IMAGE, Action.PII_LOOKUP, Action.EXPORT_PDF})

ACTION_LABELS: dict[str, str] = {
    Action.SEARCH: "检索", Action.EXPORT: "导出", Action.PAGE_VIEW: "查看页面",
    Action.PAGE_UNMASK: "显示敏感字段", Action.PAGE_IMAGE: "查看页面图像", Action.PII_LOOKUP: "精确查找",
    Action.EXPORT_PDF: "导出 PDF", Action.READING_OPEN: "开启阅读会话", Action.READING_CLOSE: "结束阅读会话",
    Action.LOGIN: "登录", Action.LOGOUT: "退出", Action.LOGOUT_ALL: "全部退出",
    Action.THROTTLE_LIFT: "解除登录限速",
    Action.GRANT_REQUEST: "申请授权", Action.GRANT_APPROVE: "批准授权", Action.GRANT_DENY: "驳回授权",
    Action.GRANT_REVOKE: "撤销授权", Action.GRANT_WITHDRAW: "撤回申请", Action.GRANT_LAPSE: "申请逾期失效",
    Action.USER_CREATE: "创建用户", Action.USER_UPDATE: "修改用户", Action.USER_UNLOCK: "解除登录限速",
    Action.USER_END_SESSIONS: "结束会话", Action.USER_RESET_PASSWORD: "重置密码",
    Action.USER_CLEAR_IDENTITY: "清除身份登记", Action.USER_CONFIRM_CHANGE: "确认账号变更",
    Action.USER_REJECT_CHANGE: "驳回账号变更", Action.USER_ISSUE_TOKEN: "签发 API 令牌",
    Action.CLI_ENSURE_INDEX: "命令行：建立索引", Action.CLI_INGEST: "命令行：导入",
    Action.CLI_REOCR: "命令行：重新 OCR", Action.CLI_ROTATE_KEYS: "命令行：轮换密钥",
    Action.CLI_DEMO: "命令行：演示数据",
    Action.BACKUP_CREATE: "备份", Action.BACKUP_RESTORE: "从备份恢复",
    Action.CLI_REINDEX: "命令行：重建索引", Action.AUDIT_VIEW: "查阅审计日志",
    Action.AUDIT_USER_VIEW: "查阅用户活动", Action.AUDIT_ANOMALIES: "查阅异常提示",
    Action.AUDIT_EXPORT: "导出审计日志", Action.AUDIT_ALERT: "哈希链告警",
    Action.INGEST_JOB_STARTED: "开始导入", Action.INGEST_PAGE_REVIEWED: "OCR 复核",
    Action.INGEST_BATCHES_REMOVED: "清理上传批次", Action.INGEST_METADATA_CHANGE: "修改著录信息",
    Action.REGISTER_VIEW: "查阅利用登记", Action.REGISTER_EXPORT: "导出利用登记",
    Action.REGISTER_ANNOTATE: "登记利用效果", Action.APPRAISAL_VIEW: "查阅到期鉴定清单",
    Action.DESTRUCTION_REQUEST: "提出销毁申请", Action.DESTRUCTION_APPROVE: "批准销毁",
    Action.DESTRUCTION_DENY: "驳回销毁", Action.DESTRUCTION_EXECUTE: "执行销毁",
    Action.FILE_KEY_DESTROYED: "销毁文件密钥", Action.DESTRUCTION_REAPPLY: "恢复后重新执行销毁",
    Action.DESTRUCTION_REGISTER_VIEW: "查阅销毁清册",
}
OUTCOME_LABELS = {"allowed": "允许", "denied": "拒绝", "error": "错误"}


def check_action(name: str) -> str:
    """`name` if it is a declared action (or a refused route); ValueError otherwise."""
    if name.startswith(ROUTE_PREFIX) and len(name) > len(ROUTE_PREFIX):
        return name
    return Action(name).value


def action_label(name: str) -> str:
    if name.startswith(ROUTE_PREFIX):
        return f"访问被拒：{name[len(ROUTE_PREFIX):]}"
    return ACTION_LABELS.get(name, name)
