"""QA review of the suggestion log: metrics, export, and promoting buyer phrasings into the
knowledge base. The HTTP side is ``assist.service.qa``; the CLI is ``assist qa``."""
