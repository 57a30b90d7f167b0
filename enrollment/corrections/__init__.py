"""Corrections after the results (issue 18): what changes a child's place after `placements.jsonl` is
sealed, recorded as signed additions the auditor replays (docs/ARCHIVE.md)."""
