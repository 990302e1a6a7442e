"""Workleap's fixed vocabularies: the values an employee's `workleap:` block may hold."""

from __future__ import annotations

__all__ = ["WORKLEAP_LANGUAGES", "WORKLEAP_PRODUCTS"]

WORKLEAP_PRODUCTS = (
    "Officevibe", "Skills", "LMS", "Pingboard", "Onboarding", "Performance", "Workleap AI",
)
WORKLEAP_LANGUAGES = ("en", "fr")
