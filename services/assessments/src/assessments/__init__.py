"""Better Work Assessments service."""
