"""The assignment epochs (分配依据版本): see ``gis.assign.epoch`` and migrations 0005–0006."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, SmallInteger, text
from sqlalchemy.orm import Mapped, mapped_column

from gis.models.base import Base


class AssignmentInputs(Base):
    """One row: ``epoch`` moves (by trigger) with every write to what assignment reads;
    ``boundaries_epoch`` is the epoch of the last write to the boundaries."""

    __tablename__ = "assignment_inputs"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    epoch: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    boundaries_epoch: Mapped[int] = mapped_column(
        BigInteger, nullable=False, server_default=text("0")
    )
