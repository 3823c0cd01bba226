"""What the demo's units and dispatchers write on a case (办理用语): replies, reasons, notes."""

from __future__ import annotations

# Results a unit reports (办理结果), by category; the default for the others.
REPLIES: dict[str, tuple[str, ...]] = {
    "property_services": (
        "已约谈物业公司，楼道垃圾已清运，物业承诺每日保洁",
        "已督促物业公司维修电梯，现已恢复运行",
        "已责令物业公司公示收费标准及调价依据",
    ),
    "consumer_rights": (
        "经调解，商家同意退款，市民已收到退款",
        "已约谈商家，商家同意退货退款",
        "已现场核查价格标签，责令商家整改并按标价结算",
    ),
    "noise": (
        "已约谈施工单位，夜间22时后停止施工",
        "已现场劝导商铺降低音响音量",
        "已与广场舞队协商，调低音量并调整活动时间",
    ),
    "heating": ("已排查管网并放气，室温已达标", "已维修入户阀门，恢复供暖"),
    "water_supply": ("已抢修管道，恢复供水", "已冲洗管网，水质检测合格"),
    "sanitation": ("已安排环卫人员清运垃圾", "已清理积存垃圾并增加清运频次"),
    "street_vending": ("已劝离占道经营摊贩，并加强巡查",),
    "illegal_construction": ("已现场核查，下达限期拆除通知书",),
    "parking": ("已对违停车辆贴单处理，并加强巡查",),
}
DEFAULT_REPLY = "已现场核实并处理，已电话告知市民处理结果"
RETURN_REASONS = (
    "不属于本单位职责，建议转属地街道办理",
    "诉求地址不在本单位辖区",
    "该事项由行业主管部门负责",
)
EXTENSION_REASONS = (
    "需协调多个部门联合处置",
    "需采购维修材料，工期较长",
    "涉及历史遗留问题，需进一步调查",
    "需等待相关单位出具鉴定意见",
)
APPROVED = ("同意延期，请按期办结", "同意")
REFUSED = ("理由不充分，请按原时限办结", "不同意延期")
URGE = "已超期，请尽快办理并反馈"
SATISFIED = "市民对处理结果表示满意"
UNSATISFIED = "市民对处理结果不满意"
REOPEN = "群众不满意，重新办理"
RATE_LATER = "市民表示稍后通过短信评价"
