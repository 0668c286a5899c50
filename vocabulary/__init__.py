"""The bot's vocabulary: card verbs and chat commands, imported by cards/, bot/ and manifest/ alike.

No imports of the SDK or of any other layer: it is the neutral place every edge can read.
"""
