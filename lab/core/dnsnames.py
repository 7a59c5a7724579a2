"""Kubernetes object names (RFC 1123): the rules the API server applies to metadata.name and namespaces."""

from __future__ import annotations

import re

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
"""An RFC 1123 label (namespaces; at most 63 characters): match with fullmatch."""
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
"""An RFC 1123 subdomain (most objects' metadata.name; at most 253 characters): match with fullmatch."""


def _rfc1123_error(name: str, what: str, limit: int, rule: re.Pattern[str], characters: str) -> str | None:
    if not name:
        return f"the {what} is empty"
    if len(name) > limit:
        return f"'{name[:20]}...' is longer than {limit} characters"
    if not rule.fullmatch(name):
        return (
            f"'{name}' is not a valid {what}: lower case alphanumeric characters{characters}, "
            "starting and ending with an alphanumeric character"
        )
    return None


def dns_subdomain_error(name: str) -> str | None:
    """Kubernetes' RFC 1123 subdomain rule for metadata.name, or None if `name` is valid."""
    return _rfc1123_error(name, "name", 253, DNS_SUBDOMAIN, ", '-' or '.'")


def dns_label_error(name: str) -> str | None:
    """Kubernetes' RFC 1123 label rule (namespaces), or None if `name` is valid."""
    return _rfc1123_error(name, "namespace", 63, DNS_LABEL, " or '-'")
