"""The daily bulletin (热线日报) in the hotline's own wording, from :func:`daily_report`.

"11月18日，12345政务服务便民热线接听群众来电诉求843件次，网民留言56件（西宁12345微信公众号46件、
市长信箱7件、青海政务服务网2件、人民网1件），直接办理425件，转交责任单位办理418件，回访量246件。
热点问题：1. 物业服务63件，2. 消费维权43件，3. 噪音扰民41件。" — the same order and punctuation
every day; a channel with no message that day is left out of the brackets.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from gis.incidents.records import MESSAGE_CHANNELS

# How the bulletin names each written channel (the city's own accounts and sites).
MESSAGE_NAMES = {
    "wechat": "西宁12345微信公众号",
    "mayor_mailbox": "市长信箱",
    "provincial_site": "青海政务服务网",
    "peoples_daily": "人民网",
}
HOT_TOPICS = 3


def bulletin(report: dict[str, Any], day: date, topics: int = HOT_TOPICS) -> str:
    """The bulletin of ``day`` from its daily report (``gis.incidents.report.daily_report``)."""
    messages = report["messages"]
    parts = [
        f"{MESSAGE_NAMES[c]}{messages[c]}件" for c in MESSAGE_CHANNELS if messages.get(c, 0) > 0
    ]
    brackets = f"（{'、'.join(parts)}）" if parts else ""
    text = (
        f"{day.month}月{day.day}日，12345政务服务便民热线接听群众来电诉求{report['calls']}件次，"
        f"网民留言{messages['total']}件{brackets}，直接办理{report['handled_directly']}件，"
        f"转交责任单位办理{report['transferred']}件，回访量{report['callbacks']}件。"
    )
    hot = report["top_categories"][:topics]
    if hot:
        items = "，".join(f"{i}. {c['name_zh']}{c['count']}件" for i, c in enumerate(hot, 1))
        text += f"热点问题：{items}。"
    return text
