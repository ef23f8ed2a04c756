"""What a process of the service does: `web` (HTTP), `worker` (outbox and Telegram polling), or `all`."""

from typing import Literal

Role = Literal["web", "worker", "all"]
ROLES: tuple[Role, ...] = ("web", "worker", "all")
