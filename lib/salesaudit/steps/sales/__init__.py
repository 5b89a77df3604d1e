"""Step 05 · Sales effectiveness: per-rep performance, archetypes, new-rep ramp and capacity.

``metrics`` (numbers) · ``story`` (titles, sentences, recorded figures, findings) · ``view`` (tables,
charts); every public name of the three is importable from here (and as ``salesaudit.reps.<name>``). The
rules shared with other steps are not re-exported: use them from :mod:`salesaudit.speed` (first contact,
speed to lead) and :mod:`salesaudit.capacity` (active team, capacity, lead forecast, reps needed).
"""

from salesaudit.steps.sales import metrics, story, view
from salesaudit.steps.sales.metrics import *  # noqa: F403
from salesaudit.steps.sales.story import *  # noqa: F403
from salesaudit.steps.sales.view import *  # noqa: F403

__all__ = [*metrics.__all__, *story.__all__, *view.__all__]
