"""Assessments persistence."""
