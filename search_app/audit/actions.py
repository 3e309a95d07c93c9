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
    AUDIT_MATCH = "audit.match"  # 按值查找: a typed value turned into its log hashes (limited per day)
    AUDIT_ALERT = "audit.alert"
    INGEST_JOB_STARTED = "ingest.job_started"
    INGEST_PAGE_REVIEWED = "ingest.page_reviewed"
    INGEST_BATCHES_REMOVED = "ingest.batches_removed"
    INGEST_METADATA_CHANGE = "ingest.metadata_change"  # a re-ingest changing 单位/门类/密级/当事人
    QA_SCOPE_GRANT = "qa.scope_grant"  # a security admin gives a QA reviewer batches to review
    QA_SCOPE_REVOKE = "qa.scope_revoke"
    QA_PAGE_VIEW = "qa.page_view"  # the review screen: redacted text (a read, via guarded_read)
    QA_PAGE_IMAGE = "qa.page_image"  # its redacted, watermarked image
    QA_REOCR = "qa.reocr"
    QA_CORRECT = "qa.correct"  # a corrected text: a new version, re-indexed, the old one kept
    QA_VERSION_VIEW = "qa.version_view"  # an earlier text version, read as the page is
    QA_ACCEPT = "qa.accept"
    QA_RESCAN = "qa.rescan"  # sent back for re-scanning, with the reason
    CATALOGUE_ADD = "catalogue.add"  # a 全宗, 门类, unit, 密级, 保管期限 or purpose category
    CATALOGUE_RENAME = "catalogue.rename"
    CATALOGUE_DISABLE = "catalogue.disable"
    CATALOGUE_ENABLE = "catalogue.enable"
    CATALOGUE_RULE = "catalogue.rule"  # a 档号 pattern set, changed or disabled
    ARCHIVE_NO_CORRECT = "catalogue.archive_no_correct"  # a file re-ingested under a new 档号
    BROWSE = "browse"  # the 全宗 → 门类 → 年度 → 件 → 页 hierarchy, read like a search
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

READ_ACTIONS = frozenset({Action.SEARCH, Action.BROWSE, Action.EXPORT, Action.PAGE_VIEW,
                          Action.PAGE_UNMASK, Action.PAGE_IMAGE, Action.PII_LOOKUP,
                          Action.EXPORT_PDF, Action.QA_PAGE_VIEW, Action.QA_PAGE_IMAGE,
                          Action.QA_VERSION_VIEW})

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
    Action.AUDIT_MATCH: "按值查找",
    Action.INGEST_JOB_STARTED: "开始导入", Action.INGEST_PAGE_REVIEWED: "OCR 复核",
    Action.INGEST_BATCHES_REMOVED: "清理上传批次", Action.INGEST_METADATA_CHANGE: "修改著录信息",
    Action.QA_SCOPE_GRANT: "授予质检范围", Action.QA_SCOPE_REVOKE: "撤销质检范围",
    Action.QA_PAGE_VIEW: "质检：查看页面", Action.QA_PAGE_IMAGE: "质检：查看页面图像",
    Action.QA_REOCR: "质检：重新识别", Action.QA_CORRECT: "质检：更正文本",
    Action.QA_VERSION_VIEW: "质检：查看历史版本", Action.QA_ACCEPT: "质检：合格",
    Action.QA_RESCAN: "质检：退回重扫",
    Action.CATALOGUE_ADD: "目录：新增条目", Action.CATALOGUE_RENAME: "目录：更名",
    Action.CATALOGUE_DISABLE: "目录：停用", Action.CATALOGUE_ENABLE: "目录：启用",
    Action.CATALOGUE_RULE: "目录：档号规则", Action.ARCHIVE_NO_CORRECT: "档号更正",
    Action.BROWSE: "分级浏览",
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
