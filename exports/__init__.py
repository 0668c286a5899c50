"""Spreadsheets at the edge (issue 17): downloads over HTTP (``GET /api/exports/<token>``) and the roster
import from the command line (``make import-roster``). The files themselves are drawn and read in sheets/."""
