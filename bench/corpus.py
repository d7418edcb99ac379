"""Streams of realistic ticket notifications for the benchmarks.

`corpus(n)`: a random-but-seeded stream of GOC/FootPrints and Request Tracker mails, and
`Specialists`, owners chosen as a real team would; `python3 -m bench.corpus --demo
maildaemon/demo/stream.mbox` writes the scripted demo week. The mails themselves (what real ones
carry: Received hops, list headers, quoted-printable bodies, HTML alternatives,
`Auto-Submitted: auto-generated`) are built by tests/builders.py, the one home of the test mails.
"""
from __future__ import annotations

import argparse
import mailbox
import random
import sys
from datetime import datetime, timedelta, timezone

from tests.builders import CST, LIST, LIST_ID, goc_mail, rt_mail  # noqa: F401 (the mails; re-exported)


TEAM = [("Ada Lovelace", "ada@example.org"), ("Grace Hopper", "grace@example.org"),
        ("Alan Turing", "alan@example.org"), ("Katherine Johnson", "katherine@example.org")]
TITLES = ["Pilot jobs fail at {s}", "HTCondor-CE upgrade breaks {s}", "Certificate renewal fails on {s}",
          "Frontier squid cache misses at {s}", "XRootD transfers slow from {s}", "CVMFS repository stale at {s}",
          "Gratia accounting missing for {s}", "Singularity images fail to start at {s}"]
SITES = ["Example site", "UNL", "Wisconsin CHTC", "Fermilab", "München LRZ", "Caltech", "Ohio Supercomputer Center"]


SUBMITTERS = [(f"{first} {last}", f"{first[0].lower()}{last.lower()}@{site}")
              for first in ("Jane", "Omar", "Li", "Priya", "Marco", "Ines")
              for last, site in (("User", "example.edu"), ("Nakamura", "lab.example.net"),
                                 ("Schmidt", "uni.example.de"))]


class Specialists:
    """Owners as a real team chooses them, for `corpus(owners="specialised")` and
    bench/suggest_bench.py (issue 12). By construction the random corpus gives each ticket a
    member drawn uniformly (and reassigns it at random): no suggester can beat chance there.

    Here every title topic (a TITLES template) has a primary member and a second one, every site
    and every submitter mail domain a member who knows it (all seeded). The person on duty picks
    at random with weights 1 + 6 (the topic's primary) + 2 (its second) + 2 (knows the site)
    + 1 (knows the domain), divided by 1 + 0.3 x the member's open tickets when `load` is given,
    and never a member in `away`.
    """
    PRIMARY, SECOND, SITE, DOMAIN, LOAD = 6.0, 2.0, 2.0, 1.0, 0.3

    def __init__(self, members=None, seed: int = 12):
        self.members = list(members or TEAM)
        emails = [e for _, e in self.members]
        rnd = random.Random(f"specialists-{seed}")
        self.topics = {i: rnd.sample(emails, 2) for i in range(len(TITLES))}
        self.sites = {s: rnd.choice(emails) for s in SITES}
        self.seed = seed

    def topic(self, title: str) -> tuple[int | None, str | None]:
        """(TITLES index, site) of a generated title, or (None, None)."""
        for i, template in enumerate(TITLES):
            head, _, tail = template.partition("{s}")
            if title.startswith(head) and title.endswith(tail) and len(title) > len(head) + len(tail):
                return i, title[len(head):len(title) - len(tail)]
        return None, None

    def weights(self, title: str, submitter: str, load=None, away=()) -> list[float]:
        topic, site = self.topic(title)
        domain = submitter.rpartition("@")[2].lower()
        knows_domain = random.Random(f"specialists-{self.seed}-{domain}").choice(self.members)[1]
        out = []
        for _, email in self.members:
            w = 1.0
            if topic is not None:
                w += self.PRIMARY * (self.topics[topic][0] == email) + self.SECOND * (self.topics[topic][1] == email)
            w += self.SITE * (self.sites.get(site) == email) + self.DOMAIN * (knows_domain == email)
            if load is not None:
                w /= 1 + self.LOAD * load.get(email, 0)
            out.append(0.0 if email in away else w)
        return out

    def choose(self, rnd: random.Random, title: str, submitter: str, load=None, away=()) -> tuple[str, str]:
        """(name, email) of the member the person on duty gives the ticket to."""
        weights = self.weights(title, submitter, load, away)
        if not any(weights):
            weights = [1.0] * len(self.members)
        return rnd.choices(self.members, weights)[0]


def corpus(n: int, seed: int = 7, start: datetime | None = None, owners: str = "random") -> list[bytes]:
    """`n` notifications over a few dozen tickets, in time order, roughly half GOC and half RT.

    `owners="specialised"` (issue 12's suggestion benchmark): submitters from SUBMITTERS, and a
    ticket's owner, once chosen, is the `Specialists` choice and stays; the default ("random")
    output is unchanged byte for byte."""
    if owners not in ("random", "specialised"):
        raise ValueError(f"owners: 'random' or 'specialised', not {owners!r}")
    special = Specialists(seed=seed) if owners == "specialised" else None
    pick = random.Random(f"{seed}-owners")
    rnd = random.Random(seed)
    at = start or datetime(2026, 9, 1, 14, 0, tzinfo=timezone.utc)
    tickets: dict[int, dict] = {}
    out = []
    for i in range(n):
        at += timedelta(minutes=rnd.randint(1, 90))
        if not tickets or rnd.random() < 0.25:
            tid = (41000 if rnd.random() < 0.5 else 1000) + len(tickets) * 3 + i % 3
            tickets[tid] = {"title": rnd.choice(TITLES).format(s=rnd.choice(SITES)), "entries": [],
                            "owner": None, "status": "Engineering" if tid >= 41000 else "new"}
            if special:
                tickets[tid]["submitter"] = pick.choice(SUBMITTERS)
        tid = rnd.choice(list(tickets))
        t = tickets[tid]
        who_name, who_mail = rnd.choice(TEAM + [("Jane User", "jane@example.edu")])
        if rnd.random() < 0.3:
            if special is None:
                t["owner"] = rnd.choice(TEAM)
            elif t["owner"] is None:
                t["owner"] = special.choose(pick, t["title"], t["submitter"][1])
        text = rnd.choice(["Could you send the job logs?", "Looking into it.", "The fix is in the next release.",
                           "Still failing after the upgrade — see attached log.", "Thanks, that worked!"]) * rnd.randint(1, 20)
        if tid >= 41000:
            t["entries"].insert(0, (at, who_name, text))
            t["status"] = rnd.choice(["Engineering", "Customer", "Engineering", "Resolved"])
            assignees = ["Alice Operator (GOC)", "Software Support (Triage)"] + ([t["owner"][0]] if t["owner"] else [])
            kw = {"submitter": "{} <{}>".format(*t["submitter"])} if special else {}
            out.append(goc_mail(tid, t["title"], at, status=t["status"], assignees=assignees,
                                entries=t["entries"][:6], html=rnd.random() < 0.2, n=i, **kw))
        else:
            t["status"] = rnd.choice(["open", "open", "stalled", "resolved"])
            owner = t["owner"][1].split("@")[0] if t["owner"] else "Nobody"
            out.append(rt_mail(tid, t["title"], at, transaction=f"Correspondence added by {who_mail}",
                               actor=who_name, actor_email=who_mail, owner=owner, status=t["status"],
                               content=text, n=i, **({"requestor": t["submitter"][1]} if special else {})))
    return out


def write_mbox(path: str, mails: list[bytes]) -> None:
    box = mailbox.mbox(path, create=True)
    box.lock()
    try:
        for raw in mails:
            box.add(raw)
        box.flush()
    finally:
        box.unlock()
        box.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--mbox", help="write the random corpus to this mbox")
    p.add_argument("--demo", help="write the scripted demo week to this mbox")
    p.add_argument("--owners", choices=("random", "specialised"), default="random",
                   help="how tickets get their owner in the random corpus (see Specialists)")
    a = p.parse_args(argv)
    if a.demo:
        from bench.demo_stream import demo_stream
        write_mbox(a.demo, demo_stream())
    if a.mbox:
        write_mbox(a.mbox, corpus(a.count, owners=a.owners))
    return 0


if __name__ == "__main__":
    sys.exit(main())
