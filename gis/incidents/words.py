"""Words for codes (状态、渠道、环节): what a person reads instead of ``in_progress``.

Chinese by default, English with ``lang="en"``; pages, exports and bulletins take their
words from here, and times as people read them (:func:`clock`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from gis.incidents.due import local_zone

# How a page shows a moment: local (Beijing) time to the minute, ``2026-11-18 09:30``.
CLOCK_FORMAT = "%Y-%m-%d %H:%M"

WORDS: dict[str, dict[str, dict[str, str]]] = {
    "status": {
        "zh": {
            "received": "待派单",
            "dispatched": "待签收",
            "in_progress": "办理中",
            "replied": "已答复",
            "closed": "已办结",
        },
        "en": {
            "received": "to dispatch",
            "dispatched": "to accept",
            "in_progress": "in progress",
            "replied": "replied",
            "closed": "closed",
        },
    },
    "channel": {
        "zh": {
            "hotline_call": "12345来电",
            "wechat": "微信公众号",
            "mayor_mailbox": "市长信箱",
            "provincial_site": "政务服务网",
            "peoples_daily": "人民网",
            "patrol": "巡查上报",
            "open311": "接口接入",
            "app": "移动端",
        },
        "en": {
            "hotline_call": "12345 call",
            "wechat": "WeChat",
            "mayor_mailbox": "Mayor's mailbox",
            "provincial_site": "Provincial site",
            "peoples_daily": "People's Daily",
            "patrol": "Patrol finding",
            "open311": "Open311",
            "app": "App",
        },
    },
    "step": {
        "zh": {
            "received": "受理",
            "dispatched": "派单",
            "dispatch": "派单",
            "transfer": "转派",
            "in_progress": "签收",
            "accept": "签收",
            "return": "退单",
            "extension_request": "延期申请",
            "extension_approve": "批准延期",
            "extension_refuse": "驳回延期",
            "extension_decision": "延期审批",
            "urge": "催办",
            "handler": "指定经办人",
            "replied": "办理答复",
            "reply": "办理答复",
            "closed": "办结",
            "close": "办结",
            "callback": "回访",
            "rating": "评价",
            "reopen": "重办",
            "merge": "合并重复件",
            "reassigned": "重新归属",
            "note": "备注",
            "verify_request": "请求核查",
            "verification_request": "请求核查",
            "verify_confirm": "核查属实",
            "verify_reject": "核查不通过",
            "verification_decision": "核查结果",
        },
        "en": {
            "received": "received",
            "dispatched": "dispatch",
            "dispatch": "dispatch",
            "transfer": "transfer",
            "in_progress": "accept",
            "accept": "accept",
            "return": "return",
            "extension_request": "ask for extension",
            "extension_approve": "approve extension",
            "extension_refuse": "refuse extension",
            "extension_decision": "extension decision",
            "urge": "urge",
            "handler": "name handler",
            "replied": "reply",
            "reply": "reply",
            "closed": "close",
            "close": "close",
            "callback": "callback",
            "rating": "rating",
            "reopen": "reopen",
            "merge": "merge duplicate",
            "reassigned": "re-assigned",
            "note": "note",
            "verify_request": "ask for verification",
            "verification_request": "verification asked",
            "verify_confirm": "confirm on the spot",
            "verify_reject": "reject verification",
            "verification_decision": "verification result",
        },
    },
    "request_kind": {
        "zh": {"extension": "延期申请", "verification": "核查"},
        "en": {"extension": "extension", "verification": "verification"},
    },
    "unit_kind": {
        "zh": {
            "department": "职能部门",
            "street_office": "街道办事处",
            "community": "社区居委会",
            "station": "综合执法服务站",
        },
        "en": {
            "department": "Department",
            "street_office": "Street office",
            "community": "Community committee",
            "station": "Enforcement station",
        },
    },
}


def word(kind: str, code: str | None, lang: str = "zh") -> str:
    """The word for ``code``, or the code itself when none is known."""
    if code is None:
        return ""
    return WORDS[kind].get(lang, WORDS[kind]["zh"]).get(code, code)


def table(lang: str = "zh") -> dict[str, dict[str, str]]:
    """Every kind of word in one language (for a page's script)."""
    return {kind: by_lang.get(lang, by_lang["zh"]) for kind, by_lang in WORDS.items()}


def clock(at: datetime | None) -> str:
    """A moment in the hotline's local time (Beijing time, 北京时间), ``2026-11-18 09:30``,
    whatever the zone it was read in; a time without a zone is taken as UTC."""
    if at is None:
        return "—"
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(local_zone()).strftime(CLOCK_FORMAT)
