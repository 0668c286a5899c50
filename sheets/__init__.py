"""Spreadsheet files as pure functions: export views in, .xlsx / .csv bytes out; a roster file in, rows out.

Like cards/ for Adaptive Cards: no storage, no Teams, no HTTP. Built on openpyxl, which both writes
and reads .xlsx (the roster import reads what people saved in Excel).
"""
