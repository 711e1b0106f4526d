"""Renderers: turn a Report into terminal text, HTML, JUnit XML or JSON. No statistics here."""
