"""Better Work Partnerships service."""
