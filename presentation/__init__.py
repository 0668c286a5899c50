"""The presentation layer: the one presenter (outcomes and notices → cards) and the notifier (notices → outbox).

No SDK imports: the bot and the intake API share it.
"""
