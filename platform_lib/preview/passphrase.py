"""Decrypting ``secure:`` config values of a stack that uses Pulumi's passphrase secrets provider.

The scheme is the Pulumi CLI's (source: pulumi/pulumi ``pkg/secrets/passphrase/manager.go`` and
``sdk/go/common/resource/config/crypt.go``):

- the stack file's ``encryptionsalt`` is ``v1:<base64 salt>:v1:<base64 nonce>:<base64 ciphertext>``;
- the key is PBKDF2-HMAC-SHA256 of the passphrase and the salt, 1,000,000 iterations, 32 bytes;
- the state's own ciphertext decrypts to ``pulumi`` with the right passphrase (anything else is an
  incorrect passphrase);
- each ``secure:`` value is ``v1:<base64 12-byte nonce>:<base64 ciphertext>``, AES-256-GCM with no
  associated data, the 16-byte tag at the end of the ciphertext.

The passphrase comes from ``PULUMI_CONFIG_PASSPHRASE``, else from the file named by
``PULUMI_CONFIG_PASSPHRASE_FILE`` (its content stripped of surrounding white space), as the CLI
reads them.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from ..core.errors import PlatformError

#: PBKDF2 iterations of the CLI's passphrase provider.
ITERATIONS = 1_000_000
#: What the state's ciphertext holds when the passphrase is right.
STATE_CHECK = "pulumi"


class SecretDecryptionError(PlatformError):
    """The passphrase is wrong, or a ``secure:`` value or the ``encryptionsalt`` is malformed."""


def passphrase_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """``PULUMI_CONFIG_PASSPHRASE`` (even empty), else the stripped content of the file named by
    ``PULUMI_CONFIG_PASSPHRASE_FILE``; None when neither is set.

    Raises:
        SecretDecryptionError: ``PULUMI_CONFIG_PASSPHRASE_FILE`` names a file that cannot be read.
    """
    environ = os.environ if environ is None else environ
    if "PULUMI_CONFIG_PASSPHRASE" in environ:
        return environ["PULUMI_CONFIG_PASSPHRASE"]
    path = environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise SecretDecryptionError(f"PULUMI_CONFIG_PASSPHRASE_FILE {path!r} cannot be read: {error}") from None


def _decode(part: str, what: str) -> bytes:
    try:
        return base64.b64decode(part, validate=True)
    except (binascii.Error, ValueError):
        raise SecretDecryptionError(f"{what} is not base64") from None


@functools.lru_cache(maxsize=8)
def _derive_key(passphrase: str, salt: bytes) -> bytes:
    """The 32-byte AES key (cached: one derivation takes about a second, and a preview reads the stack twice)."""
    return PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=ITERATIONS).derive(passphrase.encode())


class PassphraseDecrypter:
    """Decrypts one stack's ``secure:`` values.

    Args:
        passphrase: the stack's passphrase.
        encryption_salt: the stack file's ``encryptionsalt`` value.

    Raises:
        SecretDecryptionError: a malformed ``encryptionsalt``, or an incorrect passphrase.
    """

    def __init__(self, passphrase: str, encryption_salt: str):
        version, _, rest = str(encryption_salt).partition(":")
        salt_text, _, check = rest.partition(":")
        if version != "v1" or not salt_text or not check:
            raise SecretDecryptionError("encryptionsalt is not 'v1:<base64 salt>:<encrypted check>'")
        self._key = _derive_key(passphrase, _decode(salt_text, "the salt of encryptionsalt"))
        try:
            correct = self.decrypt(check) == STATE_CHECK
        except SecretDecryptionError:
            correct = False
        if not correct:
            raise SecretDecryptionError("incorrect passphrase: PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) "
                                        "does not open this stack's encryptionsalt")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of one ``secure:`` value (``v1:<base64 nonce>:<base64 ciphertext>``).

        Raises:
            SecretDecryptionError: not that shape, or it does not decrypt with this stack's key.
        """
        parts = str(ciphertext).split(":")
        if len(parts) != 3 or parts[0] != "v1":
            raise SecretDecryptionError("a secure value is not 'v1:<base64 nonce>:<base64 ciphertext>'")
        nonce = _decode(parts[1], "the nonce of a secure value")
        if len(nonce) != 12:
            raise SecretDecryptionError("the nonce of a secure value is not 12 bytes")
        try:
            plaintext = AESGCM(self._key).decrypt(nonce, _decode(parts[2], "the ciphertext of a secure value"), None)
        except InvalidTag:
            raise SecretDecryptionError("a secure value does not decrypt with this stack's passphrase "
                                        "(it was encrypted for another stack or passphrase)") from None
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise SecretDecryptionError("a secure value decrypts to bytes that are not UTF-8 text") from None
