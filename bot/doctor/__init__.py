"""``npsbot doctor``: is this deployment ready? Each check is a small function with a verdict.

``result`` holds the verdicts and their rendering, ``settings`` reads the configuration without
stopping at the first bad variable, ``local`` checks what needs no Telegram (database, time
zone, secrets), ``telegram`` asks the Bot API (token, chats, webhook) without sending anything,
and ``run`` runs them in order.
"""

from bot.doctor.result import Check, Status, passed, render
from bot.doctor.run import doctor

__all__ = ["Check", "Status", "doctor", "passed", "render"]
