"""The sandbox: the bot, the emulator and a web chat page in one process (`kimbot sandbox`)."""
