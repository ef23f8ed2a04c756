"""The channel-agnostic dialog: sign-up, commands and answers for Telegram, SMS, the web and the terminal.

Channels build an `InboundEvent`, call `DialogEngine.step`, and render the `Reply` list. `COMMANDS` lists
the commands with one-line descriptions per language (for Telegram's setMyCommands).
"""

from bot.dialog.commands import COMMANDS
from bot.dialog.engine import DialogEngine
from bot.dialog.events import Attachment, InboundEvent, Reply

__all__ = ["COMMANDS", "Attachment", "DialogEngine", "InboundEvent", "Reply"]
