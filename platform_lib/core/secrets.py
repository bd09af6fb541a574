"""Secrets: how they are shown (``[secret]``), masked inside text, and recognised by name.

``[secret]`` is what ``pulumi preview`` prints for a secret value and what the Pulumi CLI gives a
program for a ``secure:`` config value it cannot decrypt (its ``BlindingCrypter``, source:
pulumi/pulumi ``sdk/go/common/resource/config/crypt.go``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: What a secret value is shown as, and what a program gets for a secret it cannot decrypt.
SECRET_PLACEHOLDER = "[secret]"

#: Secret values shorter than this are not searched for inside text (violation messages, logs):
#: masking every "1" or "yes" would garble the message and a value that short is no secret.
MIN_MASKED_LENGTH = 4

#: Environment variable names that hold credentials: ``*PASSWORD*``, ``*TOKEN*``, ``*SECRET*``,
#: ``*KEY*`` (case-insensitive). Their values belong in a Kubernetes Secret (``valueFrom.secretKeyRef``).
SECRET_ENV_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|KEY", re.IGNORECASE)


def looks_secret(env_name: str) -> bool:
    """Whether an environment variable's name says it holds a credential (:data:`SECRET_ENV_NAME`)."""
    return bool(SECRET_ENV_NAME.search(env_name))


def masking_order(secrets: Iterable[str]) -> tuple[str, ...]:
    """The secrets worth masking inside text, longest first (so a secret containing another is masked
    whole); values shorter than :data:`MIN_MASKED_LENGTH` and the placeholder itself are left out."""
    return tuple(sorted({s for s in secrets if len(s) >= MIN_MASKED_LENGTH and s != SECRET_PLACEHOLDER}, key=len, reverse=True))


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret value replaced by ``[secret]``
    (in :func:`masking_order`; pass its result to mask many texts with the same secrets)."""
    for secret in secrets if isinstance(secrets, tuple) else masking_order(secrets):
        text = text.replace(secret, SECRET_PLACEHOLDER)
    return text
