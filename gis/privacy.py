"""Personal data of reporters (个人信息): who may see it, and how it is masked for everyone else."""

from __future__ import annotations

ROLE_ORDER = ("anonymous", "viewer", "dispatcher", "planner", "admin")


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(minimum)


def may_see_personal_data(role: str) -> bool:
    """Reporter name and phone are for dispatchers and above only."""
    return role_at_least(role, "dispatcher")


def mask_phone(phone: str | None) -> str | None:
    """138****5678: keep the first 3 and last 4 digits of a mobile number."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_name(name: str | None) -> str | None:
    """张** : keep the family name only."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)
