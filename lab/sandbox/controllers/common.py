"""What the simulated controllers share: the scaled clock, Flux conditions, per-object schedules."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any

from lab.core.duration import parse_duration
from lab.core.manifests.models import RECONCILE_ANNOTATION
from lab.core.record import dataclass
from lab.errors import LabError

if TYPE_CHECKING:
    from lab.core.manifests.models import AutomationSet
    from lab.sandbox.kubeapi import KubeAPIServer

JSON = dict[str, Any]
FLUX_NS = "flux-system"
# A scaled interval never drops below this: a 1s interval at --speed 1000 must not spin the loop.
MIN_PERIOD = 0.2


def now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Clock:
    """Flux durations in sandbox time: `speed` sandbox seconds pass per real second."""

    speed: float = 100.0
    monotonic: Callable[[], float] = time.monotonic

    def seconds(self, duration: object, default: str = "5m") -> float:
        """Real seconds to wait for a Flux duration such as `5m0s` (a bad one counts as `default`)."""
        text = duration if isinstance(duration, str) and duration else default
        try:
            ns = parse_duration(text)
        except (LabError, ValueError):
            ns = parse_duration(default)
        return max(MIN_PERIOD, ns / 1e9 / max(self.speed, 0.001))

    def now(self) -> float:
        return self.monotonic()


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, Mapping) else {}


def spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    s = obj.get("spec")
    return s if isinstance(s, Mapping) else {}


def status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    s = obj.get("status")
    return s if isinstance(s, Mapping) else {}


def key(obj: Mapping[str, Any]) -> tuple[str, str]:
    m = meta(obj)
    return str(m.get("namespace") or ""), str(m.get("name") or "")


def as_models(objs: Sequence[Mapping[str, Any]]) -> AutomationSet:
    """API objects as the lab's models, read from their manifests (JSON is YAML) by the parser the
    lab reads a repository with: the controllers apply the same rules (`lab.core.reconcile`) to them."""
    import json

    from lab.core.manifests.parse import find_automation

    def manifest(obj: Mapping[str, Any]) -> JSON:
        # As its manifest would read: the parser reports unknown top-level fields (status, ...).
        m = meta(obj)
        return {
            "apiVersion": obj.get("apiVersion"),
            "kind": obj.get("kind"),
            "metadata": {"name": m.get("name"), "namespace": m.get("namespace")},
            "spec": obj.get("spec") or {},
        }

    return find_automation(
        {f"api/{obj.get('kind')}/{'/'.join(key(obj))}.yaml": json.dumps(manifest(obj)) for obj in objs}
    )


def requested_at(obj: Mapping[str, Any]) -> str | None:
    annotations = meta(obj).get("annotations")
    if isinstance(annotations, Mapping):
        value = annotations.get(RECONCILE_ANNOTATION)
        return str(value) if value else None
    return None


def reconcile_requested(obj: Mapping[str, Any]) -> bool:
    wanted = requested_at(obj)
    return wanted is not None and wanted != status(obj).get("lastHandledReconcileAt")


def generation(obj: Mapping[str, Any]) -> int:
    value = meta(obj).get("generation")
    return int(value) if isinstance(value, int) else 1


def _true(conds: object, type_: str) -> bool:
    prev = _previous(conds if isinstance(conds, list) else [], type_)
    return prev is not None and prev.get("status") == "True"


def settled(new: Mapping[str, Any]) -> bool:
    """The reconcile that wrote `new` is over for this generation: it succeeded (Ready=True, not
    Reconciling) or stalled. fluxcd/pkg runtime/reconcile `AddPatchOptions` adds
    `WithStatusObservedGeneration` only then (`conditions.IsStalled(obj) || conditions.IsReady(obj)`);
    a failure the controller retries (Reconciling=True ProgressingWithRetry, Ready=False) leaves
    status.observedGeneration where the last settled reconcile put it."""
    conds = new.get("conditions")
    stalled, reconciling = _true(conds, "Stalled"), _true(conds, "Reconciling")
    return (stalled and not reconciling) or (_true(conds, "Ready") and not stalled and not reconciling)


def handled(obj: Mapping[str, Any], new: JSON) -> JSON:
    """`new`, the status a finished reconcile writes for `obj`: the reconcile request it answered (what
    `flux reconcile` waits to see in lastHandledReconcileAt, set whatever the outcome) and, when it
    `settled`, the generation it acted on (else observedGeneration stays behind: kstatus InProgress)."""
    if settled(new):
        new["observedGeneration"] = generation(obj)
    wanted = requested_at(obj)
    if wanted:
        new["lastHandledReconcileAt"] = wanted
    return new


def generation_changed(obj: Mapping[str, Any]) -> bool:
    return status(obj).get("observedGeneration") != generation(obj)


def changed_or_requested(obj: Mapping[str, Any]) -> bool:
    """The spec changed since the last reconcile, or `flux reconcile` asked for one."""
    return generation_changed(obj) or reconcile_requested(obj)


def first_condition(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """conditions[0] of the status (what `ready_conditions` writes there: Ready), or an empty one."""
    first = (status(obj).get("conditions") or [{}])[0]
    return first if isinstance(first, Mapping) else {}


def stays_stalled(obj: Mapping[str, Any], reasons: Collection[str]) -> bool:
    """Flux leaves an object stalled for one of `reasons` alone until its spec changes or a reconcile
    is requested."""
    return first_condition(obj).get("reason") in reasons and not changed_or_requested(obj)


def _previous(old: Sequence[Any], type_: str) -> Mapping[str, Any] | None:
    for cond in old:
        if isinstance(cond, Mapping) and cond.get("type") == type_:
            return cond
    return None


def make_condition(
    type_: str, state: bool | None, reason: str, message: str, gen: int, old: Sequence[Any] = ()
) -> JSON:
    """A metav1.Condition (`state` None: Unknown); lastTransitionTime moves only when the status flips
    (as apimachinery does)."""
    value = "Unknown" if state is None else "True" if state else "False"
    prev = _previous(old, type_)
    stamp = now_rfc3339()
    if prev is not None and prev.get("status") == value and prev.get("lastTransitionTime"):
        stamp = str(prev["lastTransitionTime"])
    return {
        "type": type_,
        "status": value,
        "observedGeneration": gen,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


IN_PROGRESS = "reconciliation in progress"


def progress_message(obj: Mapping[str, Any], step: str | None = None) -> str:
    """The Reconciling message an image controller's reconcile of `obj` leaves behind: the last
    `ProgressiveStatus` it ran. image-reflector-controller v1.2.0 (v1.1.2 a few lines on)
    internal/controller/imagerepository_controller.go :243 (imagepolicy_controller.go :306) and
    image-automation-controller v1.2.1 (v1.1.4 alike) imageupdateautomation_controller.go :299 set
    "reconciliation in progress"; when metadata.generation differs from status.observedGeneration
    (0 before the first settled reconcile, and still behind while a failure is retried) :252-253
    (:309-311; IAC :308-310) replace it with "processing object: new generation <observed> -> <gen>";
    an ImageRepository scan replaces that with its `step`, "scanning: <reason>" (:306)."""
    if step:
        return step
    observed = status(obj).get("observedGeneration")
    observed = observed if isinstance(observed, int) else 0
    gen = generation(obj)
    if observed != gen:
        return f"processing object: new generation {observed} -> {gen}"
    return IN_PROGRESS


def ready_conditions(
    obj: Mapping[str, Any],
    ok: bool,
    reason: str,
    message: str,
    *,
    stalled: bool = False,
    progress: str | None = IN_PROGRESS,
) -> list[JSON]:
    """Ready first (checks read conditions[0]), then Stalled or Reconciling as Flux's kstatus adds them.

    A failure the controller retries keeps the Reconciling condition its steps set, `progress`, with
    the reason turned ProgressingWithRetry by the reconcile's deferred function (IRC
    imagerepository_controller.go :221-228, imagepolicy_controller.go :285-292; IAC :282-289); fluxcd/pkg
    runtime/reconcile `ResultFinalizer.Finalize` removes it when the reconcile succeeded or stalled.
    `progress=None`: the reconcile failed before any step of its own set one (kustomize-controller's
    missing source or artifact), so only a Reconciling condition an earlier failure left stays."""
    gen = generation(obj)
    old = status(obj).get("conditions") or []
    old = old if isinstance(old, list) else []
    out = [make_condition("Ready", ok, reason, message, gen, old)]
    if not ok and stalled:
        out.append(make_condition("Stalled", True, reason, message, gen, old))
    elif not ok and progress is not None:
        out.append(make_condition("Reconciling", True, "ProgressingWithRetry", progress, gen, old))
    elif not ok and (kept := _previous(old, "Reconciling")) is not None:
        out.append({**kept, "reason": "ProgressingWithRetry"})
    return out


def ready_message(obj: Mapping[str, Any]) -> str | None:
    conds = status(obj).get("conditions")
    prev = _previous(conds if isinstance(conds, list) else [], "Ready")
    return str(prev.get("message")) if prev else None


@dataclass
class Schedule:
    """When each object is next due, and the inputs it last saw (a change makes it due at once)."""

    due: dict[tuple[str, ...], float] = field(default_factory=dict)
    seen: dict[tuple[str, ...], object] = field(default_factory=dict)

    def is_due(self, ident: tuple[str, ...], inputs: object, now: float) -> bool:
        if self.seen.get(ident, _MISSING) != inputs:
            return True
        return now >= self.due.get(ident, 0.0)

    def done(self, ident: tuple[str, ...], inputs: object, now: float, period: float) -> None:
        self.seen[ident] = inputs
        self.due[ident] = now + period

    def forget_except(self, live: Collection[tuple[str, ...]]) -> None:
        for ident in [i for i in self.seen if i not in live]:
            self.seen.pop(ident, None)
            self.due.pop(ident, None)


_MISSING = object()


class Controller:
    """What every simulated controller has: the API server whose objects it reconciles, the scaled
    clock and the schedule of those objects."""

    def __init__(self, api: KubeAPIServer, clock: Clock) -> None:
        self.api = api
        self.clock = clock
        self.schedule = Schedule()

    def progressing(
        self,
        kind: str,
        obj: JSON,
        message: str,
        *,
        drift: bool = False,
        ready: str | None = None,
        progressive: bool = True,
        fields: Mapping[str, Any] | None = None,
    ) -> JSON:
        """Patch the status a Flux controller patches while it works, before the work: fluxcd/pkg
        runtime/reconcile `ProgressiveStatus` sets Reconciling=True (Progressing) with `message`, and
        Ready=Unknown with it on `drift`, or when there is no Ready yet or it is Unknown; `ready` sets
        Ready=Unknown with that message whatever it was (kustomize-controller's "Reconciliation in
        progress"); `progressive=False` leaves Ready as it is (`conditions.MarkReconciling` alone, as
        kustomize-controller's later steps do); `fields` are other status fields the same patch writes. A `kubectl get -w` or
        `flux get --watch` sees it between the reconcile's start and its end. Returns the object as
        patched: the reconcile goes on from it, and its final status replaces this one."""
        gen = generation(obj)
        old = status(obj).get("conditions") or []
        old = old if isinstance(old, list) else []
        prev = _previous(old, "Ready")
        # conditions.MarkReconciling deletes Stalled: a stalled object that is reconciled again works.
        dropped = ("Ready", "Reconciling", "Stalled")
        conds = [c for c in old if isinstance(c, Mapping) and c.get("type") not in dropped]
        if ready is not None:
            conds.insert(0, make_condition("Ready", None, "Progressing", ready, gen, old))
        elif progressive and (drift or prev is None or prev.get("status") == "Unknown"):
            conds.insert(0, make_condition("Ready", None, "Progressing", message, gen, old))
        elif prev is not None:
            conds.insert(0, dict(prev))
        conds.append(make_condition("Reconciling", True, "Progressing", message, gen, old))
        new = {**status(obj), **(fields or {}), "conditions": conds}
        if new == status(obj):
            return obj
        ns, name = key(obj)
        return self.api.update_status(kind, name, ns, new)

    def starting(self, kind: str, obj: JSON) -> JSON:
        """The first patch of a Flux reconcile ("Persist reconciling if generation differs or
        reconciliation is requested": source-controller gitrepository_controller.go `reconcile`, the
        image controllers alike): "processing object: new generation A -> B" for a changed spec,
        "reconciliation in progress" for `flux reconcile`; nothing for a reconcile of the interval."""
        if generation_changed(obj):
            return self.progressing(kind, obj, progress_message(obj))
        if reconcile_requested(obj):
            return self.progressing(kind, obj, IN_PROGRESS)
        return obj
