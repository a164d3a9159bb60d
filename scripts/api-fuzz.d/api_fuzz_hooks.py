"""Hooks for scripts/api-fuzz: the portal's file bodies are text (an armored,
signed document), so they are generated and sent as text."""

import schemathesis

for media_type in ("application/x-license-audit", "application/x-license-request"):
    schemathesis.serializer.alias(media_type, "text/plain")
