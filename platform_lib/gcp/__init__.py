"""Google Cloud components: the GCS data bucket and the GCE GPU training box."""

#: A Cloud KMS crypto key id, ``projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>``
#: (Cloud KMS docs, "Object hierarchy": resource names), as Cloud Storage's ``defaultKmsKeyName``
#: and Compute Engine's ``kmsKeySelfLink`` take it. The service agent of the using service needs
#: ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on it (Cloud Storage and Compute Engine docs,
#: "customer-managed encryption keys"); the components do not grant that.
KMS_KEY_PATTERN = r"^projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/locations/[a-z0-9-]+/keyRings/[A-Za-z0-9_-]+/cryptoKeys/[A-Za-z0-9_-]+$"


def letter_first(account_id: str) -> str:
    """A service account id that starts with a letter, as IAM requires.

    Service account ids are 6-30 characters matching ``[a-z]([-a-z0-9]*[a-z0-9])`` (source: IAM
    API reference, ``projects.serviceAccounts.create``, ``accountId``). Platform names are DNS
    labels, which may start with a digit (``1fraud``); such an id gets the prefix ``sa-`` and is
    cut back to 30 characters. An id that already starts with a letter is returned unchanged.
    """
    if account_id[:1].isalpha():
        return account_id
    return f"sa-{account_id}"[:30].rstrip("-")
