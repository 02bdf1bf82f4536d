"""Authentication and authorization: bearer JWTs verified against the configured issuer."""

from servicekit.auth.dependencies import CurrentPrincipal, check_staff, require
from servicekit.auth.principal import Principal, Role
from servicekit.auth.verifier import TokenVerifier

__all__ = ["CurrentPrincipal", "Principal", "Role", "TokenVerifier", "check_staff", "require"]
