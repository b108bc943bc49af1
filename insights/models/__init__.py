"""The insights app's models, one module per concern: who monitors which municipalities
(coverage), the aggregate rows the insights pages read (rollup), the SLT forums (forums) and the
substance-policy plan's measures (measures)."""
from insights.models.coverage import *  # noqa: F401,F403
from insights.models.forums import *  # noqa: F401,F403
from insights.models.measures import *  # noqa: F401,F403
from insights.models.rollup import *  # noqa: F401,F403
