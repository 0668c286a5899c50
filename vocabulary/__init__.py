"""The bot's vocabulary: card verbs, chat commands and the JB's contact, imported by cards/, bot/ and manifest/ alike.

No imports of the SDK or of any other layer: it is the neutral place every edge can read.
"""
