"""The incident category table (诉求分类) of the demo city: 12345 topics, who handles them."""

from __future__ import annotations

from typing import TypedDict


class Category(TypedDict):
    code: str
    name_zh: str
    name_en: str
    handling_unit: str
    due_working_days: int


def _c(code: str, zh: str, en: str, unit: str, days: int) -> Category:
    return Category(code=code, name_zh=zh, name_en=en, handling_unit=unit, due_working_days=days)


CATEGORIES: tuple[Category, ...] = (
    _c("property_services", "物业服务", "Property services", "住房和城乡建设局", 5),
    _c("consumer_rights", "消费维权", "Consumer rights", "市场监督管理局", 5),
    _c("noise", "噪音扰民", "Noise nuisance", "生态环境局", 3),
    _c("heating", "供暖问题", "Heating supply", "供热公司", 2),
    _c("water_supply", "供水问题", "Water supply", "供排水集团", 2),
    _c("power_supply", "供电问题", "Power supply", "国网西宁供电公司", 2),
    _c("road_traffic", "道路交通", "Roads and traffic", "交通运输局", 5),
    _c("sanitation", "环境卫生", "Sanitation and refuse", "城市管理局", 3),
    _c("illegal_construction", "违章建筑", "Illegal construction", "综合行政执法局", 5),
    _c("street_vending", "占道经营", "Street vending and encroachment", "综合行政执法局", 3),
    _c("wage_arrears", "拖欠工资", "Unpaid wages", "人力资源和社会保障局", 5),
    _c("social_security", "社保医保", "Social and medical insurance", "医疗保障局", 5),
    _c("public_transport", "公交出行", "Public transport", "公交集团", 5),
    _c("education", "教育问题", "Schools and education", "教育局", 5),
    _c("food_safety", "食品安全", "Food safety", "市场监督管理局", 3),
    _c("greening", "园林绿化", "Parks and greenery", "园林绿化局", 5),
    _c("gas_supply", "燃气问题", "Gas supply", "中油中泰燃气公司", 2),
    _c("drainage", "排水管网", "Drains and sewers", "供排水集团", 3),
    _c("parking", "停车管理", "Parking", "公安局交通警察支队", 5),
    _c("elevator_safety", "电梯安全", "Lift safety", "市场监督管理局", 3),
    _c("housing_registration", "房产办证", "Property titles", "不动产登记局", 10),
    _c("provident_fund", "住房公积金", "Housing provident fund", "住房公积金管理中心", 5),
    _c("household_registration", "户籍办理", "Household registration", "公安局", 5),
    _c("medical_services", "医疗卫生", "Health services", "卫生健康委员会", 5),
    _c("dog_control", "养犬管理", "Dog control", "公安局", 5),
    _c("other", "其他", "Other", "市政府便民服务热线中心", 5),
)


# The departments (职能部门) the categories name as handling units: code and English name.
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "住房和城乡建设局": ("housing", "Housing and Urban-Rural Development Bureau"),
    "市场监督管理局": ("market", "Market Regulation Administration"),
    "生态环境局": ("ecology", "Ecology and Environment Bureau"),
    "供热公司": ("heating", "Heating Company"),
    "供排水集团": ("water", "Water Supply and Drainage Group"),
    "国网西宁供电公司": ("power", "State Grid Xining Power Supply Company"),
    "交通运输局": ("transport", "Transport Bureau"),
    "城市管理局": ("urban", "Urban Management Bureau"),
    "综合行政执法局": ("enforcement", "Comprehensive Administrative Law Enforcement Bureau"),
    "人力资源和社会保障局": ("hrss", "Human Resources and Social Security Bureau"),
    "医疗保障局": ("healthcare_security", "Healthcare Security Administration"),
    "公交集团": ("bus", "Public Transport Group"),
    "教育局": ("education", "Education Bureau"),
    "园林绿化局": ("parks", "Parks and Greening Bureau"),
    "中油中泰燃气公司": ("gas", "Zhongyou Zhongtai Gas Company"),
    "公安局交通警察支队": ("traffic_police", "Traffic Police Detachment"),
    "不动产登记局": ("land_registry", "Real Estate Registration Bureau"),
    "住房公积金管理中心": ("provident_fund", "Housing Provident Fund Management Centre"),
    "公安局": ("police", "Public Security Bureau"),
    "卫生健康委员会": ("health", "Health Commission"),
    "市政府便民服务热线中心": ("hotline", "12345 Hotline Centre"),
}
# How soon a dispatched case must be accepted: life or property at risk, utilities.
URGENT = ("elevator_safety", "gas_supply", "food_safety")
UTILITY = ("heating", "water_supply", "power_supply", "drainage")
