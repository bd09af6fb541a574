"""The grant helpers shared by both clouds' buckets."""

from __future__ import annotations

import pytest

from platform_lib.core.grants import normalize_prefix, prefix_slug


@pytest.mark.parametrize(("prefix", "slug"), [("features/daily/", "features-daily"), ("raw/", "raw"), ("a1/b2/", "a1-b2")])
def test_lossless_prefixes_keep_a_readable_slug(prefix, slug):
    assert prefix_slug(prefix) == slug


@pytest.mark.parametrize(("first", "second", "lowercase"), [("a.b/", "a-b/", False), ("a_b/", "a/b/", False), ("Raw/", "raw/", True)])
def test_prefixes_that_would_share_a_slug_get_distinct_ones(first, second, lowercase):
    one, two = prefix_slug(first, lowercase=lowercase), prefix_slug(second, lowercase=lowercase)
    assert one != two
    assert all(len(s) <= 40 for s in (one, two))


def test_long_prefixes_are_cut_and_stay_distinct():
    long_one, long_two = "x" * 30 + "/one/", "x" * 30 + "/two/"
    assert len(prefix_slug(long_one, 20)) == 20
    assert prefix_slug(long_one, 20) != prefix_slug(long_two, 20)


@pytest.mark.parametrize(("given", "expected"), [("", ""), (None, ""), ("raw", "raw/"), ("raw//", "raw/"), ("a/b", "a/b/")])
def test_normalize_prefix_adds_one_trailing_slash(given, expected):
    assert normalize_prefix(given) == expected


@pytest.mark.parametrize(("given", "message"), [("raw/*", "without wildcards"), ("/raw", "does not start with '/'"), ("a//b/", "empty"), ("a/../b", "'..'"), ("a b/", "made of letters")])
def test_normalize_prefix_refuses_what_would_widen_or_break_a_grant(given, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        normalize_prefix(given)


def test_normalize_prefix_refuses_a_prefix_longer_than_an_object_key():
    longest = "a/" * 512  # 1,024 bytes with its trailing '/'
    assert normalize_prefix(longest) == longest
    with pytest.raises(ValueError, match=r"at most 1024 bytes with its trailing '/' \(the longest S3 object key; got 1025\)"):
        normalize_prefix("b" + longest)
    with pytest.raises(ValueError, match="got 1025"):
        normalize_prefix("x" * 1024)  # the '/' it adds makes 1,025


def test_bucket_policy_grant_statements_name_the_principal_and_scope_the_prefix():
    from platform_lib.core.policy_documents import s3_grant_bucket_policy_statements

    arn = "arn:aws:s3:::features-abc1234"
    listing, location, objects = s3_grant_bucket_policy_statements(arn, {"Service": "logging.s3.amazonaws.com"}, "read", "raw", sid="Logs", source_account="123456789012")
    assert [s["Sid"] for s in (listing, location, objects)] == ["LogsList", "LogsLocation", "LogsObjects"]
    assert all(s["Principal"] == {"Service": "logging.s3.amazonaws.com"} for s in (listing, location, objects))
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["raw/", "raw/*"]}, "StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert objects["Resource"] == f"{arn}/raw/*" and objects["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    with pytest.raises(ValueError, match="letters and digits"):
        s3_grant_bucket_policy_statements(arn, {"AWS": "x"}, "read", sid="not ok")
