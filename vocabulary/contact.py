"""Where people reach the Judicial Bureau's e-ticket staff (SOP 2)."""

JB_EMAIL = "JUD-eTicket@vermont.gov"
"""The e-ticket help contact of the Judicial Bureau."""
