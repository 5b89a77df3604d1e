"""The boundary: files in, validated tables out.

``contract`` (the tables and their pandera models) · ``io`` (read → coerce → validate → cache) ·
``coverage`` (what the data covers) · ``dates`` (one day-first rule) · ``importers/`` (CRM exports →
the contract) · ``demo`` (the simulated company). Imports only the foundations.
"""
