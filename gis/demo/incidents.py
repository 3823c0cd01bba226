"""The incident category table and one day of 12345 hotline reports (市民热线一日).

:func:`hotline_day` generates a day of the shape it is given; by default Xining's published
day (docs/rules.md, "Xining reference figures"): 843 calls and 56 messages (46 WeChat,
7 mayor's mailbox, 2 provincial site, 1 People's Daily), 425 calls handled directly, 246
callbacks, and property services 63, consumer rights 43 and noise 41 as the top topics. Each
report sits near a building where people live, drawn by residents; records are shaped for
``gis.incidents.ingest``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from gis.coords import from_storage
from gis.demo.build import city_for
from gis.demo.categories import CATEGORIES, Category
from gis.demo.model import City, rng_for
from gis.demo.services import person_names

__all__ = [
    "CATEGORIES",
    "DAY_SHAPE",
    "PUBLISHED_DAY",
    "Category",
    "DayShape",
    "daytime_clock",
    "hotline_clock",
    "hotline_day",
]

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
    "heating": ("暖气不热，室温不达标", "供暖管道漏水", "小区至今未正常供暖"),
    "water_supply": ("小区停水未提前通知", "自来水浑浊发黄", "楼上水压低，用水困难"),
    "power_supply": ("小区频繁停电", "楼道照明线路老化"),
    "sanitation": ("小区垃圾桶满溢无人清运", "路边垃圾堆放多日"),
    "street_vending": ("小区门口占道经营", "流动摊贩堵塞人行道"),
    "parking": ("小区车辆乱停堵塞消防通道", "人行道被车辆占用"),
    "illegal_construction": ("楼顶私搭乱建", "一楼住户私自扩建院落"),
    "road_traffic": ("路面坑洼不平", "红绿灯故障"),
    "drainage": ("下水道堵塞污水外溢", "雨水井盖缺失"),
    "elevator_safety": ("电梯运行异响", "电梯困人"),
    "wage_arrears": ("工地拖欠农民工工资",),
    "dog_control": ("小区犬只不拴绳", "夜间犬吠扰民"),
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

# A Clock draws the minute of the day (0-1439, local time) of each of a day's n calls.
Clock = Callable[[np.random.Generator, int], np.ndarray]


def daytime_clock(rng: np.random.Generator, n: int) -> np.ndarray:
    """08:00 to 22:00, most around early afternoon: the published day's calls."""
    return np.clip(rng.normal(13 * 60, 3.2 * 60, n), 8 * 60, 22 * 60 - 1)


# A 24-hour hotline's calls by hour of the day (relative): a morning peak at 9-11, a
# second one after lunch at 14-16, evenings quieter, few calls at night.
HOURLY_CALLS = np.array(
    [
        *(0.7, 0.45, 0.3, 0.25, 0.25, 0.4, 0.9, 2.2, 5.0, 8.2, 8.6, 7.4),
        *(4.8, 5.4, 7.6, 7.9, 6.9, 5.4, 4.1, 3.9, 3.5, 2.8, 1.8, 1.1),
    ]
)


def hotline_clock(rng: np.random.Generator, n: int) -> np.ndarray:
    """Round the clock, shaped like :data:`HOURLY_CALLS`."""
    hours = rng.choice(24, size=n, p=HOURLY_CALLS / HOURLY_CALLS.sum())
    return hours * 60 + rng.uniform(0, 60, n)


@dataclass(frozen=True)
class DayShape:
    """What one day brings: reports per channel, how many calls the hotline answers itself
    (直接办结) and how many of those it calls back the same day, the day's top topics (the
    other categories share the rest, each below them) and when in the day calls come."""

    channels: Mapping[str, int]
    handled_directly: int
    callbacks: int
    top: Mapping[str, int] = field(default_factory=lambda: dict(TOP_CATEGORIES))
    clock: Clock = daytime_clock


PUBLISHED_DAY = DayShape(
    channels={ch: DAY_SHAPE[ch] for ch in CHANNEL_PREFIX},
    handled_directly=DAY_SHAPE["handled_directly"],
    callbacks=DAY_SHAPE["callbacks"],
)


@lru_cache(maxsize=2)
def _homes(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Building points and residents of the demo city for the seed."""
    city: City = city_for(seed)
    lon = np.array([b.lon for b in city.buildings])
    lat = np.array([b.lat for b in city.buildings])
    w = np.array([b.residents for b in city.buildings], dtype=np.float64)
    return lon, lat, w / w.sum()


def category_counts(
    total: int, rng: np.random.Generator, top: Mapping[str, int] = TOP_CATEGORIES
) -> dict[str, int]:
    """The day's category mix: the top topics fixed, the rest below them."""
    others = [c["code"] for c in CATEGORIES if c["code"] not in top]
    left = total - sum(top.values())
    cap = min(top.values()) - 1
    counts = np.full(len(others), left // len(others))
    counts[: left - int(counts.sum())] += 1
    # Shuffle units between categories, never above the third topic nor below 10.
    for _ in range(400):
        i, j = rng.integers(len(others), size=2)
        if counts[i] < cap and counts[j] > 10:
            counts[i] += 1
            counts[j] -= 1
    out = dict(top)
    out.update({code: int(n) for code, n in zip(others, counts, strict=True)})
    return out


def _phones(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = rng.choice(PHONE_PREFIXES, size=n)
    numbers = rng.integers(0, 10**8, size=n)
    return [f"{p}{int(d):08d}" for p, d in zip(prefixes, numbers, strict=True)]


def hotline_day(seed: int, day: date, shape: DayShape = PUBLISHED_DAY) -> list[dict[str, Any]]:
    """One day of 12345 reports for the demo city, deterministic for (seed, day, shape)."""
    # The day's ordinal, not its ISO text: rng_for keeps a text's first eight bytes only,
    # which a month's days share.
    rng = rng_for(seed, "hotline", day.toordinal())
    channels = [ch for ch in CHANNEL_PREFIX for _ in range(shape.channels.get(ch, 0))]
    n = len(channels)
    counts = category_counts(n, rng, shape.top)
    cats = np.array([code for code, k in counts.items() for _ in range(k)], dtype=object)
    rng.shuffle(cats)
    names = {c["code"]: c["name_zh"] for c in CATEGORIES}

    lon, lat, p = _homes(seed)
    homes = rng.choice(len(lon), size=n, p=p)
    # Within about 30 m of the home building.
    k = np.cos(np.radians(lat[homes]))
    x = lon[homes] + rng.normal(0, 30 / 111_000, n) / k
    y = lat[homes] + rng.normal(0, 30 / 111_000, n)
    crs = np.array([CHANNEL_CRS.get(ch, "cgcs2000") for ch in channels])
    for name in set(crs.tolist()) - {"cgcs2000"}:
        mask = crs == name
        x[mask], y[mask] = from_storage(x[mask], y[mask], name)

    minutes = np.sort(shape.clock(rng, n))
    rng.shuffle(minutes)
    start = datetime.combine(day, time(0), tzinfo=XINING_TZ)
    calls = [i for i, ch in enumerate(channels) if ch == "hotline_call"]
    direct = set(rng.choice(calls, size=shape.handled_directly, replace=False).tolist())
    callbacks = set(rng.choice(sorted(direct), size=shape.callbacks, replace=False).tolist())
    texts = rng.integers(0, 1 << 30, size=n)
    reporters, phones = person_names(rng, n), _phones(rng, n)
    closing = rng.integers(3, 15, size=n)
    calling = rng.integers(1, 4, size=n)
    ratings = rng.choice([3, 4, 5, 5, 5], size=n)
    seq: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    for i, ch in enumerate(channels):
        seq[ch] = seq.get(ch, 0) + 1
        received = start + timedelta(seconds=int(minutes[i] * 60))
        code = str(cats[i])
        said = DESCRIPTIONS.get(code)
        record: dict[str, Any] = {
            "external_id": f"{CHANNEL_PREFIX[ch]}-{day:%Y%m%d}-{seq[ch]:05d}",
            "channel": ch,
            "category_code": code,
            "description": said[int(texts[i]) % len(said)]
            if said
            else DEFAULT_DESCRIPTION.format(name=names[code]),
            "lon": round(float(x[i]), 7),
            "lat": round(float(y[i]), 7),
            "crs": str(crs[i]),
            "reporter_name": reporters[i],
            "reporter_phone": phones[i],
            "received_at": received,
            "handled_directly": i in direct,
            "status": "closed" if i in direct else "dispatched",
        }
        if i in direct:
            record["closed_at"] = received + timedelta(minutes=int(closing[i]))
        if i in callbacks:
            record["callback_at"] = record["closed_at"] + timedelta(hours=int(calling[i]))
            record["rating"] = int(ratings[i])
        out.append(record)
    return out
