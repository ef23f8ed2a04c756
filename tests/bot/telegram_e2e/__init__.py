"""End to end over Telegram: the real PTB Application and dialog engine, a real database, the fake Bot API."""
