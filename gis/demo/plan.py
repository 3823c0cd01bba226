"""What the demo city holds, district by district: streets, community profiles, grid counts.

Figures follow Xining's (docs/rules.md, "Xining reference figures"): 178 communities
whose attributes make the classification rules yield A 70 / B 66 / C 22 / D 20; 2,673
comprehensive and 503 dedicated grids; Chengzhong (城中区) with 8 streets/towns, 29
communities and about 98,194 households. A *profile* is the kind of place a community is
generated as (its housing mix, age, management); the class it gets is decided only by
:func:`gis.classify.classify` over the generated attributes.
"""

from __future__ import annotations

from dataclasses import dataclass

# Xining's centre (中心广场 / 大十字) and the county seats, CGCS2000 lon/lat.
CITY_CENTRE = (101.778, 36.620)
COUNTY_SEATS = {
    "630106": (101.571, 36.501),  # 鲁沙尔镇
    "630121": (101.685, 36.930),  # 桥头镇
    "630123": (101.256, 36.682),  # 湟源城关镇
}

COMPREHENSIVE_GRIDS = 2673
DEDICATED_GRIDS = 503
CHENGZHONG = "630103"
CHENGZHONG_GRIDS = 245
CHENGZHONG_DEDICATED = 46
CHENGZHONG_HOUSEHOLDS = 98_194
CHENGZHONG_RESIDENTS = 369_000
COMPOUND_BRANCHES = 556
BUILDING_GROUPS = 196
GRID_PARTY_CADRES = 8798
CHENGZHONG_STATIONS = 12


@dataclass(frozen=True)
class StreetPlan:
    """A street (街道) or town (镇/乡) and the profiles of the communities it holds."""

    name: str
    kind: str  # "street" or "town"
    profiles: str  # one letter per community: A, B, C or D (planned, not a class label)


@dataclass(frozen=True)
class DistrictPlan:
    code: str
    urban: bool
    streets: tuple[StreetPlan, ...]


def _s(name: str, profiles: str) -> StreetPlan:
    return StreetPlan(name, "street", profiles)


def _t(name: str, profiles: str) -> StreetPlan:
    return StreetPlan(name, "town", profiles)


# Urban streets get their A/B mix spread by the generator (see city.py); the strings
# here give only how many of each.
PLANS: tuple[DistrictPlan, ...] = (
    DistrictPlan(
        "630102",
        True,
        (
            _s("东关大街街道", "AABBBB"),
            _s("清真巷街道", "ABBBB"),
            _s("大众街街道", "AABBB"),
            _s("周家泉街道", "AABBB"),
            _s("火车站街道", "AAABB"),
            _s("八一路街道", "AAAAB"),
            _t("韵家口镇", "CCC"),
            _t("乐家湾镇", "CC"),
        ),
    ),
    DistrictPlan(
        "630103",
        True,
        (
            _s("人民街街道", "ABBB"),
            _s("南滩街道", "AABB"),
            _s("仓门街街道", "ABBB"),
            _s("礼让街街道", "ABB"),
            _s("饮马街街道", "AABB"),
            _s("南川东路街道", "AAB"),
            _s("南川西路街道", "AAAB"),
            _t("总寨镇", "CCC"),
        ),
    ),
    DistrictPlan(
        "630104",
        True,
        (
            _s("西关大街街道", "AAABB"),
            _s("古城台街道", "AAAABB"),
            _s("虎台街道", "AAAAB"),
            _s("胜利路街道", "AAAABB"),
            _s("兴海路街道", "AAAAAB"),
            _s("通海路街道", "AAAABB"),
            _t("彭家寨镇", "CC"),
        ),
    ),
    DistrictPlan(
        "630105",
        True,
        (
            _s("朝阳街道", "AAAAABB"),
            _s("小桥大街街道", "AAAABBB"),
            _s("马坊街道", "AAAAABB"),
            _s("火车西站街道", "AAAABBB"),
            _t("大堡子镇", "CC"),
            _t("廿里铺镇", "CC"),
        ),
    ),
    DistrictPlan(
        "630106",
        False,
        (
            _t("鲁沙尔镇", "ABBBBBBC"),
            _t("多巴镇", "CC"),
            _t("甘河滩镇", "D"),
            _t("拦隆口镇", "D"),
            _t("上五庄镇", "D"),
            _t("李家山镇", "D"),
            _t("西堡镇", "D"),
            _t("共和镇", "D"),
            _t("田家寨镇", "D"),
        ),
    ),
    DistrictPlan(
        "630121",
        False,
        (
            _t("桥头镇", "ABBBBBC"),
            _t("城关镇", "C"),
            _t("长宁镇", "C"),
            _t("塔尔镇", "DD"),
            _t("东峡镇", "D"),
            _t("黄家寨镇", "D"),
            _t("景阳镇", "D"),
            _t("多林镇", "D"),
            _t("新庄镇", "D"),
        ),
    ),
    DistrictPlan(
        "630123",
        False,
        (
            _t("城关镇", "BBBBC"),
            _t("大华镇", "CD"),
            _t("和平乡", "DD"),
            _t("日月藏族乡", "DD"),
            _t("申中乡", "D"),
        ),
    ),
)

# Relative number of comprehensive grids a community of each profile gets.
GRID_WEIGHT = {"A": 15.0, "B": 19.0, "C": 16.0, "D": 4.0}
MIN_GRIDS = {"A": 3, "B": 6, "C": 3, "D": 2}

COMMUNITY_WORDS = [
    "东关",
    "西关",
    "南关",
    "北关",
    "园林",
    "建新",
    "兴旺",
    "和平",
    "团结",
    "康乐",
    "幸福",
    "文化",
    "胜利",
    "七一",
    "南山",
    "北山",
    "福禄",
    "青年",
    "红星",
    "长江",
    "黄河",
    "湟水",
    "昆仑",
    "祁连",
    "民主",
    "前进",
    "新华",
    "光明",
    "朝阳",
    "莫家",
    "纸坊",
    "城台",
    "虎台",
    "海湖",
    "兴海",
    "杨家",
    "苏家",
    "德令",
    "五四",
    "八一",
    "花园",
    "建设",
    "中华",
    "解放",
    "大通",
    "互助",
    "晨光",
    "沈家",
    "林家",
    "南川",
    "宁张",
    "夏都",
    "凤凰",
    "香格",
    "金桥",
    "银河",
    "龙泉",
    "柴达木",
    "格尔木",
    "西川",
    "东川",
    "北川",
    "青藏",
    "馨园",
    "丽景",
    "锦绣",
    "安宁",
    "永和",
    "泰和",
    "富民",
    "惠民",
]
COMMUNITY_SUFFIXES = ("", "路", "巷", "里", "苑", "街", "园", "桥")
COMPOUND_STYLES = {
    "commercial": ("花园", "小区", "苑", "家园", "华府", "名邸", "城"),
    "old": ("家属院", "宿舍", "小区", "大院"),
    "resettlement": ("安置小区", "新村", "安居苑"),
    "mixed": ("小区", "新城", "佳苑"),
}
DEDICATED_KINDS = ("学校", "医院", "商圈", "产业园", "农贸市场", "机关", "景区", "车站")
SURNAMES = list(
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
)
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅建国海燕晓东文斌宁雪琴云飞")
