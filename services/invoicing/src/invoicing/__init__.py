"""Better Work Invoicing service."""
