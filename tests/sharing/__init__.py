"""Who sees what: access settings, entities and keys, OpenID Connect sign-in."""
