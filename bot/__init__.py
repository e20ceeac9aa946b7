"""hotline-bot: a bilingual know-your-rights chat bot for immigrant-rights hotlines."""

__version__ = "0.1.0"
