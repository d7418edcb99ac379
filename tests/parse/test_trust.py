"""parse/trust.py: who may change a ticket (SPEC 7 "Trust", SPEC 9 "Trust, exactly"). How a whole
mail is judged is tested through `classify` (tests/test_classify.py); here the pieces it rests on:
one address out of a From's raw text, and Authentication-Results read as RFC 8601 writes them."""
from __future__ import annotations

import pytest

from maildaemon.parse.trust import _CLAUSE, _PROP, Sender, parse_address, parse_results
from test_linear import N, capped


# --- the one address of a From ----------------------------------------------------------------

@pytest.mark.parametrize("raw, address", [
    ('"GOC Ticket" <Ticket@Example.ORG>', "ticket@example.org"),          # lower-cased
    ("ticket@example.org", "ticket@example.org"),
    ('"Ada Lovelace via RT" <software@rt.example.org>', "software@rt.example.org"),
])
def test_a_plain_address_is_the_sender(raw, address):
    assert parse_address(raw) == Sender(address, None)


@pytest.mark.parametrize("raw, problem", [
    ("=?utf-8?q?ticket=40example=2Eorg?= <mallory@attacker.test>",
     "From shows ticket@example.org but its address is mallory@attacker.test"),
    ('"ticket@example.org" <evil@x.test>', "From shows ticket@example.org but its address is evil@x.test"),
    ("ticket@example.org <evil@x>", "From header is malformed (InvalidHeaderDefect)"),
    ("a@x.org, b@y.org", "From header does not hold exactly one address"),
    ("Team: a@x.org;", "From header does not hold exactly one address"),
    ("", "no From address"),
    ("x" * 2001, "From header too long"),
])
def test_anything_but_exactly_one_address_shown_as_itself_is_no_sender_and_says_why(raw, problem):
    assert parse_address(raw) == Sender("", problem)


def test_the_problem_names_the_header_it_was_read_from():
    assert parse_address("a@x.org, b@y.org", "Reply-To").problem == "Reply-To header does not hold exactly one address"


# --- Authentication-Results (RFC 8601) -----------------------------------------------------------

def test_results_are_the_authserv_id_and_one_clause_per_method():
    assert parse_results("mx.example.org; dkim=pass header.d=example.org; spf=fail smtp.mailfrom=a@x.test") == (
        "mx.example.org", [("dkim", "pass", {"header.d": "example.org"}), ("spf", "fail", {"smtp.mailfrom": "a@x.test"})])
    assert parse_results("mx.example.org; none") == ("mx.example.org", [])


def test_comments_and_quoted_strings_are_text_never_clauses():
    # a sender chooses what a quoted reason says: it must not add a dkim=pass for another domain
    header = 'mx.example.org 1; dkim=pass (good signature) reason="x; dkim=pass header.d=evil.test" header.d=example.org'
    assert parse_results(header) == ("mx.example.org", [("dkim", "pass", {"header.d": "example.org"})])


def test_the_authserv_id_is_found_wherever_it_stands_and_spaces_and_versions_are_allowed():
    outlook = "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=x.org; hotmail.com; dkim=pass header.d=x.org"
    assert parse_results(outlook) == ("hotmail.com", [("spf", "pass", {"smtp.mailfrom": "x.org"}),
                                                      ("dkim", "pass", {"header.d": "x.org"})])
    assert parse_results("MX.example.org; DKIM/2 = Pass header.i=@example.org") == (
        "mx.example.org", [("dkim", "pass", {"header.i": "@example.org"})])


@pytest.mark.parametrize("text", ["a" * N, "header." * (N // 7), "a." * (N // 2), "x-y.z" * (N // 5)],
                         ids=["token", "header-dots", "a-dots", "dashes"])
def test_authentication_results_patterns_are_linear(text):
    for n in (1, 4):
        with capped():
            _CLAUSE.match(text * n)
            _PROP.findall(" " + text * n)
            parse_results("mx; dkim=pass " + text * n)
