"""Who may see and change what: the one place that decides, asked by every path."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, Field

ENTITY_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class Visibility(StrEnum):
    PRIVATE = "private"
    ENTITIES = "entities"
    AUTHENTICATED = "authenticated"
    PUBLIC = "public"


class Grant(StrEnum):
    READ = "read"
    WRITE = "write"


class Entity(BaseModel):
    """An organisation: a department, an authority, the space centre."""

    id: str
    name_en: str
    name_ar: str


class AccessPolicy(BaseModel):
    """A collection's owner and who else may read or write it."""

    owner: str | None = None
    visibility: Visibility = Visibility.PUBLIC
    entities: dict[str, Grant] = Field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    """Who is asking: an entity member with a role, or nobody (anonymous)."""

    entity: str | None = None
    role: Role | None = None
    key_id: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.entity is not None


ANONYMOUS = Principal()


def can_read(principal: Principal, policy: AccessPolicy) -> bool:
    if policy.visibility is Visibility.PUBLIC:
        return True
    if principal.entity is None:
        return False
    if principal.entity == policy.owner:
        return True
    if policy.visibility is Visibility.AUTHENTICATED:
        return True
    if policy.visibility is Visibility.ENTITIES:
        return principal.entity in policy.entities
    return False


def can_write(principal: Principal, policy: AccessPolicy) -> bool:
    """Editors and admins of the owner, or of an entity granted write."""
    if principal.entity is None or principal.role not in (Role.ADMIN, Role.EDITOR):
        return False
    if principal.entity == policy.owner:
        return True
    return policy.entities.get(principal.entity) is Grant.WRITE and can_read(principal, policy)


def can_administer(principal: Principal, policy: AccessPolicy) -> bool:
    """Only the owner's admins change who may see a collection."""
    return (
        principal.role is Role.ADMIN
        and principal.entity is not None
        and (principal.entity == policy.owner)
    )


# -- API keys: `gis_<id>_<secret>`; only a hash of the secret is ever stored ----------------

KEY_PATTERN = re.compile(r"^gis_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{32,64})$")


@dataclass(frozen=True)
class NewKey:
    key_id: str
    secret_hash: str
    token: str  # shown once, to whoever issued it


def new_key() -> NewKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(key_id=key_id, secret_hash=hash_secret(secret), token=f"gis_{key_id}_{secret}")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_token(token: str) -> tuple[str, str] | None:
    match = KEY_PATTERN.match(token)
    return (match.group(1), match.group(2)) if match else None


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
