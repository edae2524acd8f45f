"""QA review of the suggestion log: metrics, export, and promoting buyer phrasings into the
knowledge base. The HTTP side is ``assist.service.qa``; the CLI is ``assist qa``."""

# The log store lives in assist.service, whose package init builds the app, which imports this
# package's metrics: initialising assist.service first keeps that cycle in one fixed order.
import assist.service  # noqa: F401
