"""Turning executed notebooks into the quarterly report.

``figures`` (the registry of every recorded figure) · ``record`` (figures and findings as display data) · ``nb`` (the notebook context) · ``sections``
(preconditions of a section) · ``execute`` (papermill) · ``summary`` (the executive summary's figures)
· ``build`` (validate → execute → compare → HTML → PDF) · ``lint`` (checks a built report).
Imports the foundations, ``salesaudit.data`` and ``salesaudit.steps``.
"""
