"""How to reach the Judicial Bureau's e-ticket staff (SOP 2), named once for every card and message."""

from __future__ import annotations

JB_EMAIL = "JUD-eTicket@vermont.gov"
"""The JB e-ticket staff's mailbox: questions, and what the bot replaces for the Information Package (SOP 2, 6.2)."""
