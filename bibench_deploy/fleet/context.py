"""What every device worker of one run shares: the run's identity, settings and stop flag."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from bibench_deploy.fleet.engines.base import Measure


@dataclass
class RunContext:
    run_id: str
    run_dir: Path
    tool_version: str
    measure: Measure
    journal: object
    max_spread_pct: float = 5.0
    trust_new_hosts: bool = False
    connect_tries: int = 3
    backoff_s: float = 0.5
    stop: threading.Event = field(default_factory=threading.Event)
    # devices sharing a host (--max-parallel): a device holds a turn for one whole group (push,
    # every round, op profile), so a cell's launches run back to back, not minutes apart
    measuring: Optional[threading.Semaphore] = None
    prior_attempts: dict[str, int] = field(default_factory=dict)
    on_progress: Callable[[str, dict], None] = lambda device, update: None
