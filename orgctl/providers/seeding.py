"""What every provider's `seed` (desired org -> its emulator's seed, for the sandbox)
shares. A provider's own seed lives in its package (`orgctl.providers.<system>.seeding`);
`orgctl.sandbox.seeding` gathers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from graphlib import TopologicalSorter

from orgctl.model import Team, Unit

__all__ = ["parents_first"]


def parents_first(nodes: Mapping[str, Unit] | Mapping[str, Team]) -> list[str]:
    """Keys of `nodes` (units or teams), parents first: an emulator loads a child only
    once its parent exists."""
    graph = TopologicalSorter({k: [n.parent] if n.parent in nodes else []
                               for k, n in nodes.items()})
    return list(graph.static_order())
