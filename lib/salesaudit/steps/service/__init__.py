"""Step 06 · Customer service: repeat purchases, referrals, tickets, NPS.

``metrics`` (numbers) · ``story`` (titles, sentences, recorded figures, findings) · ``view`` (tables,
charts); every public name of the three is importable from here (and as ``salesaudit.service.<name>``).
"""

from salesaudit.steps.service import metrics, story, view
from salesaudit.steps.service.metrics import *  # noqa: F403
from salesaudit.steps.service.story import *  # noqa: F403
from salesaudit.steps.service.view import *  # noqa: F403

__all__ = [*metrics.__all__, *story.__all__, *view.__all__]
