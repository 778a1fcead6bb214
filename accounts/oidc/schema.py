"""OpenAPI: both authentication classes read the same `Authorization: Bearer` header, so one security scheme."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class LocalJWTScheme(SimpleJWTScheme):
    target_class = "accounts.oidc.authentication.LocalJWTAuthentication"

    def get_security_definition(self, auto_schema):
        return {
            **super().get_security_definition(auto_schema),
            "description": "An access token of ours (auth/login/), or of a configured identity provider.",
        }


class ExternalJWTScheme(OpenApiAuthenticationExtension):
    """Adds nothing: the local class's scheme already describes the header."""

    target_class = "accounts.oidc.authentication.ExternalJWTAuthentication"
    name = []

    def get_security_definition(self, auto_schema):
        return []

    def get_security_requirement(self, auto_schema):
        return None
