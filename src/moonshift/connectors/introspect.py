"""What each engine can do, for the connectors to declare."""

from __future__ import annotations

from moonshift.connectors.base import Capabilities

CAPABILITIES = {
    "postgresql": Capabilities(
        binary_copy=True, transactional_ddl=True, schemas=True, deferred_key=True
    ),
    "mysql": Capabilities(
        load_data=True, partial_indexes=False, expression_indexes=False, prefix_keys=True
    ),
    "sqlite": Capabilities(transactional_ddl=True, parallel_writes=False, alter_constraints=False),
}
