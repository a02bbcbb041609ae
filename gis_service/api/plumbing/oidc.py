"""Sign-in through the national identity provider: OpenID Connect access tokens (JWTs).

A token is accepted when its signature verifies against the provider's JWKS, its issuer
and audience are the configured ones and it has not expired; a claim names the entity
(which must exist here) and another the role. PyJWT does the cryptography.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import jwt

from ...domain.access import Principal, Role
from ...errors import Unauthorized
from ...settings import Settings
from ...store.base import Store


class OidcVerifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def _client(self) -> jwt.PyJWKClient:
        return jwt.PyJWKClient(self.settings.oidc_jwks_url or "", cache_keys=True)

    @cached_property
    def _file_keys(self) -> jwt.PyJWKSet:
        """A JWKS kept on disk: for closed networks (and the tests)."""
        return jwt.PyJWKSet.from_json(Path(self.settings.oidc_jwks_file or "").read_text())

    def _signing_key(self, token: str) -> jwt.PyJWK:
        if self.settings.oidc_jwks_file:
            kid = jwt.get_unverified_header(token).get("kid")
            for key in self._file_keys.keys:
                if key.key_id == kid:
                    return key
            raise jwt.PyJWKClientError(f"no key {kid!r} in the configured JWKS")
        return self._client.get_signing_key_from_jwt(token)

    def principal(self, token: str, store: Store) -> Principal:
        s = self.settings
        try:
            key = self._signing_key(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                issuer=s.oidc_issuer,
                audience=s.oidc_audience,
                options={"require": ["exp", "iss", "sub"]},
            )
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            raise Unauthorized(f"the identity token is not valid ({exc})") from None
        entity = claims.get(s.oidc_entity_claim)
        if not isinstance(entity, str) or store.catalog.get_entity(entity) is None:
            raise Unauthorized(f"the token's {s.oidc_entity_claim!r} claim names no entity here")
        try:
            role = Role(claims.get(s.oidc_role_claim, Role.VIEWER.value))
        except ValueError:
            raise Unauthorized(f"the token's {s.oidc_role_claim!r} claim is not a role") from None
        return Principal(entity=entity, role=role, key_id=f"oidc:{claims['sub']}")
