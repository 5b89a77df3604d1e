"""Step 07 · Spend planning: ROI by channel, response curves, the Monte Carlo plan, what-if allocation.

``metrics`` (numbers) · ``forecast`` (numbers too: the backtest and next quarter's forecast) · ``target`` (numbers:
the revenue target run backwards through the plan) · ``story`` (titles, sentences, recorded figures, findings) ·
``view`` (tables, charts, the what-if and target sliders); every public name of the five is importable from here
(and as ``salesaudit.planning.<name>``).
"""

from salesaudit.steps.planning import forecast, metrics, story, target, view
from salesaudit.steps.planning.forecast import *  # noqa: F403
from salesaudit.steps.planning.metrics import *  # noqa: F403
from salesaudit.steps.planning.story import *  # noqa: F403
from salesaudit.steps.planning.target import *  # noqa: F403
from salesaudit.steps.planning.view import *  # noqa: F403

__all__ = [*metrics.__all__, *forecast.__all__, *target.__all__, *story.__all__, *view.__all__]
