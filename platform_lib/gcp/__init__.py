"""Google Cloud components: the GCS data bucket and the GCE GPU training box."""


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
