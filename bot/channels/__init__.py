"""Channel adapters: SMS (Twilio), Telegram and the terminal."""
