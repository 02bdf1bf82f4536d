"""Local and test infrastructure of the Better Work platform (never imported by services)."""
