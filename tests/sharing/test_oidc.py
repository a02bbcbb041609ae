"""Sign-in with OpenID Connect tokens, signed by keys this test makes itself."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Entity, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import DATA, STORES, make_settings

ISSUER = "https://id.example.gov/realms/national"
AUDIENCE = "gis-service"


def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def signer() -> rsa.RSAPrivateKey:
    return private_key()


@pytest.fixture(scope="module", params=STORES)
def world(request, tmp_path_factory, signer) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("oidc")
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signer.public_key()))
    jwks = tmp / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    settings = make_settings(
        request.param,
        request,
        tmp,
        oidc_issuer=ISSUER,
        oidc_jwks_file=str(jwks),
        oidc_audience=AUDIENCE,
    )
    store = open_store(settings)
    store.catalog.add_entity(Entity(id="sha", name_en="Health", name_ar="الصحة"))
    import_file(store, DATA / "districts.geojson", IngestOptions(collection_id="private"))
    store.catalog.set_access("private", AccessPolicy(owner="sha", visibility=Visibility.PRIVATE))
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client


def token(key: rsa.RSAPrivateKey, **overrides) -> str:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-42",
        "entity": "sha",
        "role": "viewer",
        "exp": int(time.time()) + 300,
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def get(client, bearer: str):
    return client.get("/collections/private", headers={"Authorization": f"Bearer {bearer}"})


def test_a_valid_token_signs_in_as_its_entity(world, signer):
    assert get(world, token(signer)).status_code == 200
    assert world.get("/collections/private").status_code == 404


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 10},
        {"iss": "https://elsewhere.example"},
        {"aud": "another-service"},
        {"entity": "nobody"},
        {"entity": None},
        {"role": "emperor"},
        {"sub": None},
    ],
)
def test_invalid_tokens_are_401(world, signer, overrides):
    res = get(world, token(signer, **overrides))
    assert res.status_code == 401
    assert res.headers["www-authenticate"].startswith("Bearer")


def test_a_token_signed_by_another_key_is_401(world):
    assert get(world, token(private_key())).status_code == 401


def test_a_tampered_token_is_401(world, signer):
    header, _payload, signature = token(signer).split(".")
    forged = jwt.utils.base64url_encode(
        json.dumps(
            {
                "iss": ISSUER,
                "aud": AUDIENCE,
                "sub": "x",
                "entity": "sha",
                "role": "admin",
                "exp": int(time.time()) + 300,
            }
        ).encode()
    ).decode()
    assert get(world, f"{header}.{forged}.{signature}").status_code == 401
