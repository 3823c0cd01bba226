"""High availability (高可用): a Patroni cluster of PostgreSQL nodes with a standby that takes
over, and the etcd it agrees through. See :mod:`gis.ha.standby`."""

from __future__ import annotations

from gis.ha.standby import HaCluster, Member
from gis.settings import Settings, get_settings

__all__ = ["HaCluster", "Member", "ha_cluster"]


def ha_cluster(settings: Settings | None = None) -> HaCluster:
    """The HA cluster of these settings, in ``<state_dir>/ha``."""
    s = settings or get_settings()
    return HaCluster(state_dir=s.state_dir / "ha", os_user=s.cluster_user, pg_version=s.pg_version)
