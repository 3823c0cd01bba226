"""Personal data of reporters (个人信息): who may see it, and how it is masked for everyone else."""

from __future__ import annotations

ROLE_ORDER = ("anonymous", "viewer", "dispatcher", "planner", "admin")
# Bound roles rank as a staff role for everything but their own queue: a unit's staff
# and a grid worker (网格员) read maps and boundaries as a viewer does.
RANKS_AS = {"unit": "viewer", "grid_worker": "viewer"}


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_ORDER.index(RANKS_AS.get(role, role)) >= ROLE_ORDER.index(minimum)


def may_see_personal_data(role: str, own: bool = False) -> bool:
    """Reporter name and phone are for dispatchers and above, for a unit's staff on the
    cases dispatched to their unit and for a grid worker on the cases of their grids
    (``own``): they call the resident back, or knock on the door to verify."""
    return role_at_least(role, "dispatcher") or (own and role in RANKS_AS)


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


# -- the one decision on what a response may show ------------------------------------

PERSONAL_FIELDS = ("reporter_name", "reporter_phone")
MASKS = {"reporter_name": mask_name, "reporter_phone": mask_phone}


def reveals_personal_data(
    role: str, *, public: bool = False, export: bool = False, own: bool = False
) -> bool:
    """Whether a response for ``role`` may carry reporters' names and phones unmasked.

    ``public`` outputs (tiles, OGC API, Open311, maps, exports) never do, except when
    an administrator explicitly asks for personal data (``export=True``, audited by the
    caller). Elsewhere dispatchers and above see them.
    """
    if export:
        return role == "admin"
    if public:
        return False
    return may_see_personal_data(role, own)


def present(record: dict[str, object], reveal: bool) -> dict[str, object]:
    """``record`` with its personal fields masked unless ``reveal``; a new dict."""
    if reveal:
        return dict(record)
    out = dict(record)
    for key, mask in MASKS.items():
        value = out.get(key)
        if isinstance(value, str):
            out[key] = mask(value)
    return out


def redact(record: dict[str, object]) -> dict[str, object]:
    """``record`` without personal fields at all (public feeds that have no use for them)."""
    return {k: v for k, v in record.items() if k not in PERSONAL_FIELDS}
