"""Side-by-side benchmark of the JB e-Ticket Bot against botbuilder's echo bot (``python -m bench``)."""
