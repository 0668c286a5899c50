"""Use cases of the procedure: domain decisions, recorded in storage, with notices queued.

No botbuilder imports: the bot layer translates activities into these calls and back.
"""
