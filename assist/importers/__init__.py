"""Importers: a shop's quick phrases and FAQ sheets into knowledge YAML, and back out.

Formats: 千牛 quick-phrase CSV (``qianniu``), FAQ sheets in CSV or XLSX (``faq``), MaxKB
segment sheets (``maxkb``); see knowledge/README.md for the headers recognised and the
re-import rules.
"""

from assist.importers.errors import ImportRejected, SourceProblem
from assist.importers.export import EXPORT_FORMATS, ExportReport, export_knowledge
from assist.importers.importer import FORMATS, ImportReport, import_file

__all__ = ["EXPORT_FORMATS", "FORMATS", "ExportReport", "ImportRejected", "ImportReport",
           "SourceProblem", "export_knowledge", "import_file"]
