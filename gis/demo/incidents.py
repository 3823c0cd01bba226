"""The incident category table and one day of 12345 hotline reports (市民热线一日).

:func:`hotline_day` generates a day shaped like Xining's (docs/rules.md, "Xining reference
figures"): 843 calls and 56 messages (46 WeChat, 7 mayor's mailbox, 2 provincial site,
1 People's Daily), 425 calls handled directly, 246 callbacks, and property services 63,
consumer rights 43 and noise 41 as the top topics. Each report sits near a building where
people live, drawn by residents; records are shaped for ``gis.incidents.ingest``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from gis.coords import from_storage
from gis.demo.build import city_for
from gis.demo.categories import CATEGORIES, Category
from gis.demo.model import City, rng_for
from gis.demo.services import person_name

__all__ = ["CATEGORIES", "DAY_SHAPE", "Category", "hotline_day"]

XINING_TZ = ZoneInfo("Asia/Shanghai")
DAY_SHAPE = {
    "hotline_call": 843,
    "wechat": 46,
    "mayor_mailbox": 7,
    "provincial_site": 2,
    "peoples_daily": 1,
    "handled_directly": 425,
    "callbacks": 246,
}
TOP_CATEGORIES = {"property_services": 63, "consumer_rights": 43, "noise": 41}
# Messages come from apps and web forms that report GCJ-02 (WeChat wx.getLocation);
# the hotline system geocodes calls in CGCS2000.
CHANNEL_CRS = {"hotline_call": "cgcs2000", "wechat": "gcj02"}
CHANNEL_PREFIX = {
    "hotline_call": "12345",
    "wechat": "WX",
    "mayor_mailbox": "MB",
    "provincial_site": "PS",
    "peoples_daily": "RMW",
}
DESCRIPTIONS = {
    "property_services": (
        "小区物业不作为，楼道垃圾无人清理",
        "物业费上涨未公示",
        "电梯坏了物业一直不修",
    ),
    "consumer_rights": (
        "预付卡商家跑路无法退款",
        "网购商品质量问题商家拒绝退货",
        "超市价格标签与结算不符",
    ),
    "noise": ("夜间施工噪音扰民", "楼下商铺音响声音过大", "广场舞音量过大影响休息"),
}
DEFAULT_DESCRIPTION = "{name}：市民反映相关问题，请尽快核实处理"
PHONE_PREFIXES = (
    "138",
    "139",
    "136",
    "137",
    "150",
    "151",
    "152",
    "158",
    "159",
    "182",
    "187",
    "188",
    "135",
    "133",
    "153",
    "177",
    "180",
    "181",
    "189",
    "199",
)


@lru_cache(maxsize=2)
def _homes(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Building points and residents of the demo city for the seed."""
    city: City = city_for(seed)
    lon = np.array([b.lon for b in city.buildings])
    lat = np.array([b.lat for b in city.buildings])
    w = np.array([b.residents for b in city.buildings], dtype=np.float64)
    return lon, lat, w / w.sum()


def category_counts(total: int, rng: np.random.Generator) -> dict[str, int]:
    """The day's category mix: the three top topics fixed, the rest below them."""
    others = [c["code"] for c in CATEGORIES if c["code"] not in TOP_CATEGORIES]
    left = total - sum(TOP_CATEGORIES.values())
    cap = min(TOP_CATEGORIES.values()) - 1
    counts = np.full(len(others), left // len(others))
    counts[: left - int(counts.sum())] += 1
    # Shuffle units between categories, never above the third topic nor below 10.
    for _ in range(400):
        i, j = rng.integers(len(others), size=2)
        if counts[i] < cap and counts[j] > 10:
            counts[i] += 1
            counts[j] -= 1
    out = dict(TOP_CATEGORIES)
    out.update({code: int(n) for code, n in zip(others, counts, strict=True)})
    return out


def _phone(rng: np.random.Generator) -> str:
    return str(rng.choice(PHONE_PREFIXES)) + "".join(map(str, rng.integers(0, 10, 8)))


def hotline_day(seed: int, day: date) -> list[dict[str, Any]]:
    """One day of 12345 reports for the demo city, deterministic for (seed, day)."""
    rng = rng_for(seed, "hotline", day.isoformat())
    channels = [ch for ch in CHANNEL_PREFIX for _ in range(DAY_SHAPE[ch])]
    n = len(channels)
    counts = category_counts(n, rng)
    cats = np.array([code for code, k in counts.items() for _ in range(k)], dtype=object)
    rng.shuffle(cats)
    names = {c["code"]: c["name_zh"] for c in CATEGORIES}

    lon, lat, p = _homes(seed)
    homes = rng.choice(len(lon), size=n, p=p)
    # Within about 30 m of the home building.
    k = np.cos(np.radians(lat[homes]))
    x = lon[homes] + rng.normal(0, 30 / 111_000, n) / k
    y = lat[homes] + rng.normal(0, 30 / 111_000, n)

    # Calls between 08:00 and 22:00, more in the morning and early afternoon.
    minutes = np.sort(np.clip(rng.normal(13 * 60, 3.2 * 60, n), 8 * 60, 22 * 60 - 1))
    rng.shuffle(minutes)
    start = datetime.combine(day, time(0), tzinfo=XINING_TZ)
    calls = [i for i, ch in enumerate(channels) if ch == "hotline_call"]
    direct = set(rng.choice(calls, size=DAY_SHAPE["handled_directly"], replace=False).tolist())
    callbacks = set(rng.choice(sorted(direct), size=DAY_SHAPE["callbacks"], replace=False).tolist())
    seq: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for i, ch in enumerate(channels):
        seq[ch] = seq.get(ch, 0) + 1
        crs = CHANNEL_CRS.get(ch, "cgcs2000")
        px, py = (x[i], y[i]) if crs == "cgcs2000" else from_storage(x[i], y[i], crs)
        received = start + timedelta(seconds=int(minutes[i] * 60))
        code = str(cats[i])
        texts = DESCRIPTIONS.get(code)
        record: dict[str, Any] = {
            "external_id": f"{CHANNEL_PREFIX[ch]}-{day:%Y%m%d}-{seq[ch]:05d}",
            "channel": ch,
            "category_code": code,
            "description": str(rng.choice(texts))
            if texts
            else DEFAULT_DESCRIPTION.format(name=names[code]),
            "lon": round(float(px), 7),
            "lat": round(float(py), 7),
            "crs": crs,
            "reporter_name": person_name(rng),
            "reporter_phone": _phone(rng),
            "received_at": received,
            "handled_directly": i in direct,
            "status": "closed" if i in direct else "dispatched",
        }
        if i in direct:
            record["closed_at"] = received + timedelta(minutes=int(rng.integers(3, 15)))
        if i in callbacks:
            record["callback_at"] = record["closed_at"] + timedelta(hours=int(rng.integers(1, 4)))
            record["rating"] = int(rng.choice([3, 4, 5, 5, 5]))
        out.append(record)
    return out
