"""Step 07 · Spend planning: ROI by channel, response curves, the Monte Carlo plan, what-if allocation.

``metrics`` and ``target`` (numbers) · ``story`` (titles, sentences, recorded figures, findings) · ``view`` (tables, charts,
the what-if sliders); every public name of the three is importable from here (and as
``salesaudit.planning.<name>``).
"""

from salesaudit.steps.planning import metrics, story, target, view
from salesaudit.steps.planning.metrics import *  # noqa: F403
from salesaudit.steps.planning.story import *  # noqa: F403
from salesaudit.steps.planning.target import *  # noqa: F403
from salesaudit.steps.planning.view import *  # noqa: F403

__all__ = [*metrics.__all__, *target.__all__, *story.__all__, *view.__all__]
