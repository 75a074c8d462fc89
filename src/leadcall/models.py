"""Imports every table so the metadata is complete (Alembic, tests)."""

from leadcall.billing import models as _billing  # noqa: F401
from leadcall.calls import models as _calls  # noqa: F401
from leadcall.campaigns import models as _campaigns  # noqa: F401
from leadcall.core.db import Base
from leadcall.integrations import models as _integrations  # noqa: F401
from leadcall.leads import models as _leads  # noqa: F401
from leadcall.retention import models as _retention  # noqa: F401
from leadcall.rules import models as _rules  # noqa: F401
from leadcall.scheduling import models as _scheduling  # noqa: F401
from leadcall.tenancy import models as _tenancy  # noqa: F401
from leadcall.voice import analysis_models as _voice_analysis  # noqa: F401
from leadcall.voice import models as _voice  # noqa: F401

metadata = Base.metadata
