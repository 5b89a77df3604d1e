"""Step 02 · Tools and content: e-mail streams, content that helps conversion, speed of follow-up.

``metrics`` (numbers) · ``story`` (titles, sentences, recorded figures, findings) · ``view`` (tables,
charts); every public name of the three is importable from here (and as ``salesaudit.engagement.<name>``
and ``salesaudit.content.<name>``, the 0.1 names).
"""

from salesaudit.steps.tools import metrics, story, view
from salesaudit.steps.tools.metrics import *  # noqa: F403
from salesaudit.steps.tools.story import *  # noqa: F403
from salesaudit.steps.tools.view import *  # noqa: F403

__all__ = [*metrics.__all__, *story.__all__, *view.__all__]
