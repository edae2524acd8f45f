"""QA review of the suggestion log: metrics, export, and promoting buyer phrasings into the
knowledge base. It reads the log store below it; the HTTP side is ``assist.service.qa_routes``
and the CLI is ``assist qa``."""
