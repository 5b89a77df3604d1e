"""Step 04 · Reporting: are our data and reports accurate? (the data-quality audit)

``metrics`` (snapshots, checks, scores, trend, reconciliation) · ``story`` (titles, sentences, recorded
figures, findings) · ``view`` (tables, charts); every public name of the three is importable from here (and
as ``salesaudit.dataquality.<name>``).
"""

from salesaudit.steps.reporting import metrics, story, view
from salesaudit.steps.reporting.metrics import *  # noqa: F403
from salesaudit.steps.reporting.story import *  # noqa: F403
from salesaudit.steps.reporting.view import *  # noqa: F403

__all__ = [*metrics.__all__, *story.__all__, *view.__all__]
