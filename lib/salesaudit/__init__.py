"""Sales audit workbook: the shared, tested metrics the audit notebooks import.

Submodules are imported on use (``from salesaudit import funnel``) so that importing the package
stays cheap.
"""

__version__ = "0.1.0"
