"""SPEC 10: the person on duty's next digest carries the `rotation check` lines."""
from test_cli import week


def test_the_digest_of_the_person_on_duty_names_a_week_hit_by_an_outage(cli):
    cli("import", week(cli.root))
    rota = cli.root / "r.txt"              # Grace is away 2026-11-30..12-04 (the test team's outage)
    rota.write_text("2026-11-23  alan@example.org  Alan Turing\n2026-11-30  grace@example.org  Grace Hopper\n")
    assert cli("rotation", "load", str(rota))[0] == 0
    code, out, _ = cli("rotation", "check", "--now", "2026-11-24T09:30")
    [line] = [x for x in out.splitlines() if x.startswith("conflict ")]
    assert code == 1 and line.startswith("conflict 2026-11-30 grace@example.org away 2026-11-30..2026-12-04")
    code, out, err = cli("remind", "--dry-run", "--now", "2026-11-24T09:30")
    assert code == 0, err
    assert "Rotation: stored weeks whose person is away (`maildaemon rotation check`):" in out
    assert "conflict 2026-11-30 grace@example.org away 2026-11-30..2026-12-04" in out
