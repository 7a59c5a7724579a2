"""Engine semantics: DAG skipping, exceptions, offline exclusion, exit codes, concurrency, watch."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from lab.core.checks import CheckDef, Outcome, Report, Status, runner
from lab.core.checks.model import CheckKind, CheckResult
from lab.core.report.json import to_dict


def d(cid: str, points: int = 1, deps: tuple[str, ...] = (), kind: CheckKind = "repo", **kw: Any) -> CheckDef:
    return CheckDef(id=cid, title=cid.upper(), points=points, depends_on=deps, kind=kind, **kw)


def ok(_: object) -> Outcome:
    return Outcome.passed("fine")


def bad(_: object) -> Outcome:
    return Outcome.failed("wrong value in x.yaml", file="x.yaml", line=3, hint="fix x")


def report_of(results: tuple[CheckResult, ...]) -> Report:
    return Report(task="t", checks=results)


def test_failed_prerequisite_skips_dependents_with_root_cause() -> None:
    defs = [d("a"), d("b", deps=("a",)), d("c", deps=("b",)), d("z")]
    calls: list[str] = []

    def track(name: str, out: Callable[[object], Outcome]) -> Callable[[object], Outcome]:
        def fn(ctx: object) -> Outcome:
            calls.append(name)
            return out(ctx)

        return fn

    res = {
        r.id: r
        for r in runner.run(
            defs, {"a": track("a", bad), "b": track("b", ok), "c": track("c", ok), "z": ok}, None
        )
    }
    assert res["a"].status is Status.FAIL
    assert res["b"].status is Status.SKIPPED and res["b"].blocked_by == "a"
    assert res["c"].status is Status.SKIPPED and res["c"].blocked_by == "a"  # the root, not b
    assert "blocked by a" in res["c"].message
    assert res["z"].status is Status.PASS
    assert calls == ["a"]  # dependents were never called


def test_passing_prerequisites_let_dependents_run_in_declared_order() -> None:
    defs = [d("a", 2), d("b", 3, deps=("a",))]
    results = runner.run(defs, {"a": ok, "b": ok}, None)
    assert [r.id for r in results] == ["a", "b"]
    assert [r.points for r in results] == [2, 3]
    assert all(r.attempts == 1 for r in results)


def test_exception_becomes_error_with_class_in_evidence() -> None:
    def boom(_: object) -> Outcome:
        raise KeyError("spec\nsecond line")

    (r,) = runner.run([d("a", 5)], {"a": boom}, None)
    assert r.status is Status.ERROR
    assert r.points == 0 and r.max_points == 5
    assert "KeyError" in r.message and "\n" not in r.message
    assert r.evidence[0].kind == "exception"
    assert r.evidence[0].ref == "builtins.KeyError"
    assert "bug" in r.hint


def test_wrong_return_type_is_error_not_crash() -> None:
    (r,) = runner.run([d("a")], {"a": lambda _: "pass"}, None)
    assert r.status is Status.ERROR and "not an Outcome" in r.message


def test_lab_errors_are_answers_not_crashes() -> None:
    from lab.errors import LabError, RegistryError

    def bad_yaml(_: object) -> Outcome:
        raise LabError(
            "invalid YAML: mapping values are not allowed here", file="x.yaml", line=2, hint="quote it"
        )

    def offline(_: object) -> Outcome:
        raise RegistryError("cannot connect to index.docker.io", hint="try the sandbox")

    a, b = runner.run([d("a"), d("b")], {"a": bad_yaml, "b": offline}, None)
    assert (a.status, a.message, a.hint) == (
        Status.FAIL,
        "x.yaml:2: invalid YAML: mapping values are not allowed here",
        "quote it",
    )
    assert (b.status, b.message, b.hint) == (
        Status.ERROR,
        "cannot connect to index.docker.io",
        "try the sandbox",
    )
    assert runner.BUG_HINT not in (a.hint, b.hint)


def test_a_concluded_helper_answers_for_its_check() -> None:
    def nothing_pushed() -> None:
        raise runner.Concluded(Outcome.failed("origin has no branch main", hint="git push -u origin main"))

    def check(_: object) -> Outcome:
        nothing_pushed()
        return Outcome.passed("unreachable")

    (r,) = runner.run([d("a", 3)], {"a": check}, None)
    assert (r.status, r.message, r.hint, r.points) == (
        Status.FAIL,
        "origin has no branch main",
        "git push -u origin main",
        0,
    )


def test_unregistered_id_is_reported_not_faked() -> None:
    (r,) = runner.run([d("marker.valid")], {}, None)
    assert r.status is Status.ERROR
    assert r.message == "no implementation for check marker.valid"


def test_offline_excludes_live_kinds_from_max_score_but_blocked_stay() -> None:
    defs = [
        d("repo.a", 10),
        d("repo.b", 5, deps=("repo.a",)),
        d("registry.tags", 6, kind="registry"),
        d("cluster.x", 7, kind="cluster"),
        d("git.after", 4, deps=("registry.tags",), kind="git"),
    ]
    impls = {"repo.a": bad, "repo.b": ok, "registry.tags": ok, "cluster.x": ok, "git.after": ok}
    results = runner.run(defs, impls, None, excluded_kinds={"registry", "cluster"})
    res = {r.id: r for r in results}
    for cid in ("registry.tags", "cluster.x"):
        assert res[cid].status is Status.SKIPPED and res[cid].blocked_by is None
        assert res[cid].excluded and res[cid].message.startswith("offline")
    # a check that needs an excluded one is excluded too, not blocked
    assert res["git.after"].excluded and "offline" in res["git.after"].message
    assert res["repo.b"].blocked_by == "repo.a" and not res["repo.b"].excluded
    rep = report_of(results)
    assert rep.max_score == 15  # repo.a + blocked repo.b; the excluded ones left out
    assert rep.score == 0


@pytest.mark.parametrize(
    ("outcomes", "code"),
    [
        ({"a": ok, "b": ok}, 0),
        ({"a": bad, "b": ok}, 1),
        ({"a": lambda _: Outcome.errored("registry down"), "b": ok}, 3),
        ({"a": lambda _: Outcome.pending("not reconciled"), "b": ok}, 3),
        ({"a": lambda _: Outcome.errored("registry down"), "b": bad}, 1),
    ],
)
def test_exit_code_rule(outcomes: dict[str, Callable[[object], Outcome]], code: int) -> None:
    defs = [d("a"), d("b"), d("c", kind="cluster")]
    rep = report_of(runner.run(defs, {**outcomes, "c": ok}, None, excluded_kinds={"cluster"}))
    assert rep.exit_code() == code


def test_partial_credit_is_clamped_and_only_for_fail() -> None:
    defs = [d("a", 4), d("b", 4), d("c", 4)]
    impls = {
        "a": lambda _: Outcome.failed("half", points=2),
        "b": lambda _: Outcome.failed("too much", points=99),
        "c": lambda _: Outcome.make(Status.ERROR, "x", points=3),
    }
    assert [r.points for r in runner.run(defs, impls, None)] == [2, 4, 0]


def test_independent_checks_run_concurrently_and_dependents_wait() -> None:
    barrier = threading.Barrier(2, timeout=10)
    events: list[str] = []
    lock = threading.Lock()

    def meet(name: str) -> Callable[[object], Outcome]:
        def fn(_: object) -> Outcome:
            barrier.wait()  # breaks (BrokenBarrierError -> error) unless both run at once
            with lock:
                events.append(name)
            return Outcome.passed()

        return fn

    def after(_: object) -> Outcome:
        with lock:
            events.append("c")
        return Outcome.passed()

    defs = [d("a"), d("b"), d("c", deps=("a", "b"))]
    results = runner.run(defs, {"a": meet("a"), "b": meet("b"), "c": after}, None, max_workers=4)
    assert [r.status for r in results] == [Status.PASS] * 3
    assert events[-1] == "c"


def test_order_is_declared_order_whatever_finishes_first() -> None:
    b_done = threading.Event()

    def slow_a(_: object) -> Outcome:
        assert b_done.wait(10)
        return Outcome.passed("a")

    def fast_b(_: object) -> Outcome:
        b_done.set()
        return Outcome.passed("b")

    results = runner.run([d("a"), d("b")], {"a": slow_a, "b": fast_b}, None, max_workers=2)
    assert [r.id for r in results] == ["a", "b"]


def test_at_most_max_workers_checks_run_at_once_and_all_of_them_run() -> None:
    lock = threading.Lock()
    now = peak = 0
    ran: list[str] = []
    three = threading.Barrier(3, timeout=10)  # breaks (-> error) unless three run at once

    def counted(name: str) -> Callable[[object], Outcome]:
        def fn(_: object) -> Outcome:
            nonlocal now, peak
            with lock:
                now += 1
                peak = max(peak, now)
            three.wait()
            threading.Event().wait(0.01)  # a fourth worker, if there were one, would start meanwhile
            with lock:
                now -= 1
                ran.append(name)
            return Outcome.passed()

        return fn

    names = [f"c{i}" for i in range(9)]
    results = runner.run([d(n) for n in names], {n: counted(n) for n in names}, None, max_workers=3)
    assert [r.status for r in results] == [Status.PASS] * 9
    assert sorted(ran) == names
    assert peak == 3
    assert [t.name for t in threading.enumerate() if t.name.startswith("check_")] == []


def test_reraise_hands_the_exception_to_the_caller_after_the_other_checks_end() -> None:
    other_done = threading.Event()

    def crash(_: object) -> Outcome:
        raise KeyError("boom")

    def slow(_: object) -> Outcome:
        threading.Event().wait(0.1)
        other_done.set()
        return Outcome.passed()

    with pytest.raises(KeyError):
        runner.run([d("a"), d("b")], {"a": crash, "b": slow}, None, max_workers=2, reraise=True)
    assert other_done.is_set()  # leaving the run waited for the check still running


def _stable(rep: Report) -> dict[str, Any]:
    data = to_dict(rep)
    data.pop("duration_s")
    for c in data["checks"]:
        c.pop("duration_s")
    return data


def test_same_inputs_give_identical_json() -> None:
    defs = [d("a"), d("b", deps=("a",)), d("c"), d("d", kind="cluster")]
    impls = {"a": bad, "b": ok, "c": lambda _: Outcome.errored("x")}
    one = _stable(report_of(runner.run(defs, impls, None, max_workers=4)))
    two = _stable(report_of(runner.run(defs, impls, None, max_workers=1)))
    assert one == two


def test_definitions_are_validated() -> None:
    with pytest.raises(runner.DefinitionError, match="cycle"):
        runner.validate_defs([d("a", deps=("b",)), d("b", deps=("a",))])
    with pytest.raises(runner.DefinitionError, match="unknown check"):
        runner.validate_defs([d("a", deps=("nope",))])
    with pytest.raises(runner.DefinitionError, match="twice"):
        runner.validate_defs([d("a"), d("a")])


def test_select_keeps_prerequisites_in_declared_order() -> None:
    defs = [d("a"), d("b", deps=("a",)), d("c"), d("e", deps=("b",))]
    assert [x.id for x in runner.select(defs, ["e"])] == ["a", "b", "e"]
    assert runner.select(defs, None) == tuple(defs)
    with pytest.raises(runner.DefinitionError, match="unknown check id zzz"):
        runner.select(defs, ["zzz"])


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_watch_reruns_pending_until_settled_with_backoff() -> None:
    answers = iter([Outcome.pending("no scan yet"), Outcome.errored("connection refused"), Outcome.passed()])
    calls = {"repo": 0, "after": 0}

    def repo(_: object) -> Outcome:
        calls["repo"] += 1
        return Outcome.passed()

    def after(_: object) -> Outcome:
        calls["after"] += 1
        return Outcome.passed()

    defs = [d("repo"), d("cluster.x", kind="cluster"), d("cluster.y", deps=("cluster.x",), kind="cluster")]
    t = FakeTime()
    results = runner.watch(
        defs,
        {"repo": repo, "cluster.x": lambda _: next(answers), "cluster.y": after},
        None,
        timeout_s=60,
        sleep=t.sleep,
        clock=t.clock,
    )
    res = {r.id: r for r in results}
    assert res["cluster.x"].status is Status.PASS and res["cluster.x"].attempts == 3
    assert res["cluster.y"].status is Status.PASS and res["cluster.y"].attempts == 1
    assert calls == {"repo": 1, "after": 1}  # settled checks are not re-run
    assert t.sleeps == [1.0, 2.0]


def test_watch_deadline_leaves_pending_as_pending() -> None:
    t = FakeTime()
    results = runner.watch(
        [d("cluster.x", kind="cluster"), d("repo.bad")],
        {"cluster.x": lambda _: Outcome.pending("observedGeneration behind"), "repo.bad": bad},
        None,
        timeout_s=20,
        sleep=t.sleep,
        clock=t.clock,
        max_delay_s=8,
    )
    assert results[0].status is Status.PENDING
    assert results[0].attempts == 1 + len(t.sleeps)
    assert sum(t.sleeps) == pytest.approx(20)
    assert max(t.sleeps) <= 8
    assert results[1].status is Status.FAIL and results[1].attempts == 1  # repo checks are not watched


def test_hidden_checks_hide_hint_and_evidence_from_learners() -> None:
    from lab.core.checks.model import Evidence

    fn = lambda _: Outcome.failed("secret", hint="the answer", evidence=[Evidence("file", "x")])  # noqa: E731
    rep = report_of(runner.run([d("h", hidden=True)], {"h": fn}, None))
    learner = rep.for_learner().checks[0]
    assert learner.status is Status.FAIL and learner.title == "H"
    assert learner.hint == "" and learner.evidence == ()
    assert rep.checks[0].hint == "the answer"


def test_on_result_reports_each_check_as_it_is_decided() -> None:
    release = threading.Event()

    def slow(_: object) -> Outcome:
        release.wait(5)
        return Outcome.passed("slow")

    seen: list[tuple[str, Status]] = []

    def on_result(result: CheckResult) -> None:
        seen.append((result.id, result.status))
        if result.id == "fast":
            release.set()  # the slow check only finishes after the fast one was reported

    defs = [d("slow"), d("fast"), d("blocked", deps=("broken",)), d("broken")]
    results = runner.run(
        defs, {"slow": slow, "fast": ok, "broken": bad, "blocked": ok}, None, on_result=on_result
    )
    assert [r.id for r in results] == ["slow", "fast", "blocked", "broken"]  # declared order
    assert seen.index(("fast", Status.PASS)) < seen.index(("slow", Status.PASS))
    assert ("blocked", Status.SKIPPED) in seen and len(seen) == 4


def test_first_failure_is_led_by_the_first_problem_and_counts_the_others() -> None:
    from lab.core.checks.model import Evidence
    from lab.core.manifests.models import Problem

    first = Problem("image.tag", "apps/deploy.yaml", 7, "image", "the image has no tag")
    second = Problem("policy.range", "flux/policy.yaml", 3, "spec.policy", "bad range", hint="use 1.x")
    evidence = [Evidence("problem", "apps/deploy.yaml:7 image.tag", "error: the image has no tag")]

    out = Outcome.first_failure([first, second], evidence)

    assert out == Outcome(
        Status.FAIL, "the image has no tag (+1 more)", None, tuple(evidence), "apps/deploy.yaml", 7
    )
    assert Outcome.first_failure([second], ()).message == "bad range"
    assert Outcome.first_failure([second], ()).hint == "use 1.x"


def test_clean_text_shows_escapes_and_controls_keeps_tabs_and_newlines() -> None:
    from lab.core.checks.model import clean_text

    controls = [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]
    assert clean_text("".join(map(chr, controls))) == "".join(
        "\r" if c == 0x0D else f"\\x{c:02x}" for c in controls
    ).replace("\r", "\\x0d")
    assert clean_text("\ud800\udbff\udc80\udfff") == "\\ud800\\udbff\\x80\\udfff"
    # Shown, not deleted: a value holding an escape must not read as the valid value it resembles.
    assert clean_text("a\tb\nc\x1b[31mred\x1b[0m\x1b]0;title\x07 é\u00a0\ud7ff\ue000😀") == (
        "a\tb\nc\\x1b[31mred\\x1b[0m\\x1b]0;title\\x07 é\u00a0\ud7ff\ue000😀"
    )
    assert clean_text("x\u202ey\u2028") == "x\\u202ey\\u2028"
    assert clean_text("line\r\nnext") == "line\r\nnext"


def test_ctrl_c_while_a_worker_starts_stays_a_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 16: Ctrl-C landing in Thread.start left an unstarted thread in the pool's list; leaving the
    # pool joined it, and RuntimeError ("cannot join thread before it is started") replaced the
    # KeyboardInterrupt: `lab check` ended in an internal error (exit 70) instead of 130.
    real_start = threading.Thread.start

    def interrupted(self: threading.Thread) -> None:
        if self.name.startswith("check_"):
            raise KeyboardInterrupt
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.run([d("a"), d("b")], {"a": ok, "b": ok}, None, max_workers=2)
