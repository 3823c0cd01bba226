"""How the demo's cases were handled (办理过程): who took each step, when, and how often a
case went otherwise (returned, transferred, extended, answered late, reopened).

Delays and odds follow common 12345 practice: dispatchers send a case on within minutes
(the night shift sends on only what cannot wait); departments accept within the accept
clock in office hours (utilities and urgent cases round the clock) and answer within the
case's working days; a dispatcher reviews the answer and closes the case the next day,
and calls the resident back the day after. A case stops where the demo's moment finds it.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gis.demo import plan, wording
from gis.demo.casework import Case, Clock, Life
from gis.incidents.due import is_working_day
from gis.settings import WorkflowRules

DISPATCHERS = tuple(f"12345 dispatcher {k:02d}" for k in range(1, 17))
STAFF_PER_UNIT = 3
# The units' staff are named from given names no resident's name uses, so that a staff
# member shown in a case's log never reads as a reporter (whose name viewers never see).
STAFF_GIVEN = [
    c
    for c in "志宏振德荣祥瑞福彬辉鹏浩博泽宇航亮成达慧婷佳欣悦琳倩颖"
    if c not in (*plan.GIVEN, *plan.SURNAMES)
]
RETURNED = 0.04  # 退单: the unit sends it back, the hotline dispatches it elsewhere
TRANSFERRED = 0.03  # 转派: the hotline moves it to another unit
ACCEPTED_LATE = 0.03
EXTENDED = 0.06  # 延期申请
APPROVED = 0.7
EXTENSION_DAYS = (3, 5, 5, 7, 10)
LATE = 0.07  # answered after the deadline
LATE_AFTER_REFUSAL = 0.4
STALLED = 0.005  # still unanswered, however old
MAX_URGES = 3
CALLED_BACK = 0.9
RATED_LATER = 0.08  # the resident rates by text message after the call
REOPENED = 0.45  # of the unsatisfied (rating 1-2), once
# Cumulative weights of ratings 1-5 (out of 100): answered on time, late, after reopening.
RATINGS = {
    "on_time": (3, 7, 17, 45, 100),
    "late": (12, 25, 50, 78, 100),
    "again": (5, 10, 30, 65, 100),
}
# Cases of these categories often go to the street office (街道) or community (社区) of
# their grid rather than to the category's department: the share for each.
STREET_SHARE = {
    "property_services": 0.25,
    "sanitation": 0.3,
    "street_vending": 0.4,
    "illegal_construction": 0.3,
    "noise": 0.15,
    "greening": 0.2,
    "parking": 0.2,
    "dog_control": 0.3,
}
COMMUNITY_SHARE = {"property_services": 0.12, "noise": 0.08, "sanitation": 0.08, "dog_control": 0.1}
OFFICE = ((time(8, 30), time(12, 0)), (time(14, 0), time(18, 0)))
DAY_SHIFT = (time(7, 0), time(23, 0))  # the hotline's day shift; nights only what is urgent


def minutes(n: float) -> timedelta:
    return timedelta(seconds=round(n * 60))


@dataclass
class Desk:
    """What every case's handling shares: the categories' clocks, the units there are, the
    loop's rules, the demo's moment and the people on duty."""

    seed: int
    clocks: Mapping[str, Clock]
    units: frozenset[str]
    rules: WorkflowRules
    end: datetime
    zone: ZoneInfo
    _staff: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def dispatcher(self, rnd: random.Random) -> str:
        return DISPATCHERS[int(rnd.random() * len(DISPATCHERS))]

    def staff(self, unit: str) -> tuple[str, ...]:
        """The unit's people who accept and handle cases, the same on every run."""
        names = self._staff.get(unit)
        if names is None:
            rnd = random.Random(f"{self.seed}:staff:{unit}")
            names = tuple(
                rnd.choice(plan.SURNAMES) + "".join(rnd.choices(STAFF_GIVEN, k=rnd.randint(1, 2)))
                for _ in range(STAFF_PER_UNIT)
            )
            self._staff[unit] = names
        return names

    def at(self, day: date, hour: time) -> datetime:
        return datetime.combine(day, hour, tzinfo=self.zone)

    def local(self, at: datetime) -> datetime:
        return at if at.tzinfo is self.zone else at.astimezone(self.zone)

    def office(self, at: datetime, rnd: random.Random) -> datetime:
        """``at``, or a little after the next office hours begin (working days)."""
        local = self.local(at)
        day, clock = local.date(), local.time()
        while True:
            if is_working_day(day):
                for start, stop in OFFICE:
                    if clock < stop:
                        if clock >= start:
                            return local
                        return self.at(day, start) + minutes(rnd.uniform(0, 40))
            day, clock = day + timedelta(days=1), time(0)

    def working_days(self, start: datetime, due: datetime) -> list[date]:
        """The working days from ``start``'s to the one before ``due``'s."""
        day, last = self.local(start).date(), self.local(due).date()
        days = []
        while day < last:
            if is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def hotline(self, at: datetime, rnd: random.Random) -> datetime:
        """``at`` in the day shift, or early in the next one."""
        local = self.local(at)
        if DAY_SHIFT[0] <= local.time() < DAY_SHIFT[1]:
            return at
        day = local.date() + timedelta(days=1 if local.time() >= DAY_SHIFT[1] else 0)
        return self.at(day, DAY_SHIFT[0]) + minutes(rnd.uniform(0, 60))

    def unit_time(self, at: datetime, accept_class: str, rnd: random.Random) -> datetime:
        """Utilities and urgent cases are worked round the clock, the rest in office hours."""
        return at if accept_class != "normal" else self.office(at, rnd)

    def next_day(self, at: datetime, hour: time, spread_min: float, rnd: random.Random) -> datetime:
        day = self.local(at).date() + timedelta(days=1)
        return self.at(day, hour) + minutes(rnd.uniform(0, spread_min))

    def first_unit(self, case: Case, clock: Clock, rnd: random.Random) -> str:
        roll = rnd.random()
        community = COMMUNITY_SHARE.get(case.category, 0.0)
        street = community + STREET_SHARE.get(case.category, 0.0)
        if roll < community and f"community-{case.community_code}" in self.units:
            return f"community-{case.community_code}"
        if roll < street and f"street-{case.street_code}" in self.units:
            return f"street-{case.street_code}"
        return clock.unit

    def other_unit(self, case: Case, clock: Clock, unit: str) -> str:
        """Where a case goes when ``unit`` is not the one: a department's case to the street
        office of its grid, a street office's or community's back to the department."""
        street = f"street-{case.street_code}"
        if unit.startswith("community-") and street in self.units:
            return street
        if not unit.startswith(("street-", "community-")) and street in self.units:
            return street
        if clock.unit != unit:
            return clock.unit
        return "urban" if unit != "urban" else "enforcement"


def live(case: Case, desk: Desk) -> Life:
    """The case's steps from its receipt to the demo's moment."""
    rnd = random.Random(desk.seed << 32 | zlib.crc32(case.external_id.encode()))
    clock = desk.clocks[case.category]
    # The hotline's own answer is taken as the record has it.
    given = case.callback_at or case.closed_at
    end = max(desk.end, given) if case.handled_directly and given else desk.end
    life = Life(case, clock, desk.rules, end)
    taker = desk.dispatcher(rnd)
    life.received(taker)
    if case.handled_directly:
        _answered(life, taker, desk, rnd)
        return life
    cls = clock.accept_class
    unit = desk.first_unit(case, clock, rnd)
    sent = _dispatch_time(case.received_at, cls, desk, rnd)
    if not life.dispatch(sent, desk.dispatcher(rnd), unit):
        return life
    roll = rnd.random()
    if roll < RETURNED:
        back = desk.unit_time(life.last + minutes(rnd.lognormvariate(3.5, 0.8)), cls, rnd)
        if not life.return_(back, rnd.choice(desk.staff(unit)), rnd.choice(wording.RETURN_REASONS)):
            return life
        again = desk.hotline(life.last + minutes(rnd.uniform(10, 120)), rnd)
        if not life.dispatch(again, desk.dispatcher(rnd), desk.other_unit(case, clock, unit)):
            return life
    elif roll < RETURNED + TRANSFERRED:
        moved = desk.hotline(life.last + minutes(rnd.uniform(20, 300)), rnd)
        if not life.transfer(moved, desk.dispatcher(rnd), desk.other_unit(case, clock, unit)):
            return life
    _handle(life, desk, rnd, again=False)
    return life


def _answered(life: Life, taker: str, desk: Desk, rnd: random.Random) -> None:
    case = life.case
    assert case.closed_at is not None, "a case handled directly is closed"
    life.close(case.closed_at, taker, directly=True)
    if case.callback_at is not None:
        note = wording.SATISFIED if (case.rating or 5) >= 3 else wording.UNSATISFIED
        life.callback(case.callback_at, desk.dispatcher(rnd), case.rating, note)


def _dispatch_time(received: datetime, cls: str, desk: Desk, rnd: random.Random) -> datetime:
    if cls == "urgent":
        return received + minutes(rnd.uniform(1, 6))
    if cls == "utility":
        return received + minutes(rnd.uniform(2, 12))
    return desk.hotline(received + minutes(min(120.0, rnd.lognormvariate(2.7, 0.6))), rnd)


def _accept_time(life: Life, desk: Desk, rnd: random.Random) -> datetime:
    sent, limit = life.last, life.row.accept_due_at
    assert limit is not None, "a dispatched case has an accept clock"
    late = rnd.random() < ACCEPTED_LATE
    if life.clock.accept_class == "normal":
        if late:
            return desk.office(limit + minutes(rnd.uniform(20, 480)), rnd)
        return desk.office(sent + minutes(rnd.lognormvariate(3.4, 0.9)), rnd)
    if late:
        return limit + minutes(rnd.uniform(2, 60))
    return sent + (limit - sent) * rnd.uniform(0.1, 0.9)


def _reply_time(life: Life, late: bool, desk: Desk, rnd: random.Random) -> datetime:
    """When the unit answers: late, or on a day before the deadline's, so that the hotline
    still closes the case in time the next day."""
    start, due, cls = life.last, life.row.due_at, life.clock.accept_class
    if late:
        return desk.unit_time(due + timedelta(days=rnd.lognormvariate(0.3, 0.7)), cls, rnd)
    if cls != "normal":
        span = max(due - timedelta(days=1) - start, timedelta(hours=1))
        return start + span * rnd.betavariate(1.3, 3.0)
    days = desk.working_days(start, due)
    if not days:  # the deadline is today: answered today, closed a day late
        return desk.office(start + minutes(rnd.uniform(30, 180)), rnd)
    day = days[int(rnd.betavariate(2.2, 1.8) * len(days))]
    begin, stop = OFFICE[rnd.randrange(len(OFFICE))]
    span = desk.at(day, stop) - desk.at(day, begin)
    return desk.office(max(desk.at(day, begin) + span * rnd.random(), start + minutes(10)), rnd)


def _urge(life: Life, desk: Desk, rnd: random.Random, until: datetime | None) -> bool:
    """Chase an unanswered case from the day after its deadline, every other day; False
    when the demo's moment came first."""
    due = life.row.due_at
    for k in range(MAX_URGES):
        at = desk.next_day(due + timedelta(days=2 * k), time(9), 90, rnd)
        if until is not None and at >= until:
            break
        if at > life.last and not life.urge(at, desk.dispatcher(rnd), wording.URGE):
            return False
    return not life.stopped


def _extend(life: Life, handler: str, desk: Desk, rnd: random.Random) -> bool | None:
    """Ask for more days and have it decided: whether it was refused (None: the demo's
    moment came first)."""
    row, cls = life.row, life.clock.accept_class
    asked = desk.unit_time(life.last + (row.due_at - life.last) * rnd.uniform(0.2, 0.7), cls, rnd)
    days, reason = rnd.choice(EXTENSION_DAYS), rnd.choice(wording.EXTENSION_REASONS)
    if not life.ask_extension(asked, handler, days, reason):
        return None if life.stopped else False
    approve = rnd.random() < APPROVED
    decided = desk.hotline(life.last + minutes(rnd.uniform(60, 1200)), rnd)
    note = rnd.choice(wording.APPROVED if approve else wording.REFUSED)
    if not life.decide(decided, desk.dispatcher(rnd), approve, note):
        return None
    return not approve


def _handle(life: Life, desk: Desk, rnd: random.Random, again: bool) -> None:
    """From acceptance to the callback, and once more if the resident was unsatisfied."""
    unit, cls = life.row.unit_code, life.clock.accept_class
    assert unit is not None, "a dispatched case has a unit"
    clerk, handler = rnd.choice(desk.staff(unit)), rnd.choice(desk.staff(unit))
    if not life.accept(_accept_time(life, desk, rnd), clerk):
        return
    named = desk.unit_time(life.last + minutes(rnd.uniform(1, 30)), cls, rnd)
    if not life.name_handler(named, clerk, handler):
        return
    fate = rnd.random()
    late, stalled = fate < LATE, fate > 1 - STALLED
    if not again and not stalled and rnd.random() < EXTENDED:
        refused = _extend(life, handler, desk, rnd)
        if refused is None:
            return
        late = late or (refused and rnd.random() < LATE_AFTER_REFUSAL)
    replied = None if stalled else _reply_time(life, late, desk, rnd)
    if not _urge(life, desk, rnd, replied) or replied is None:
        return
    text = rnd.choice(wording.REPLIES.get(life.case.category, (wording.DEFAULT_REPLY,)))
    if not life.reply(replied, handler, text):
        return
    if not life.close(desk.next_day(life.last, time(8, 30), 210, rnd), desk.dispatcher(rnd)):
        return
    _call_back(life, desk, rnd, again, late)


def _call_back(life: Life, desk: Desk, rnd: random.Random, again: bool, late: bool) -> None:
    """The callback and rating after closing, and the reopening of an unsatisfied case."""
    if rnd.random() >= CALLED_BACK:
        return
    odds = RATINGS["again" if again else "late" if late else "on_time"]
    rating = rnd.choices((1, 2, 3, 4, 5), cum_weights=odds)[0]
    later = rnd.random() < RATED_LATER
    caller = desk.dispatcher(rnd)
    note = wording.SATISFIED if rating >= 3 else wording.UNSATISFIED
    note = wording.RATE_LATER if later else note
    called = desk.next_day(life.last, time(9), 540, rnd)
    if not life.callback(called, caller, None if later else rating, note):
        return
    if later and not life.rate(life.last + minutes(rnd.uniform(30, 600)), caller, rating):
        return
    if rating <= 2 and not again and rnd.random() < REOPENED:
        reopened = desk.hotline(life.last + minutes(rnd.uniform(20, 180)), rnd)
        if life.reopen(reopened, desk.dispatcher(rnd), wording.REOPEN):
            _handle(life, desk, rnd, again=True)
