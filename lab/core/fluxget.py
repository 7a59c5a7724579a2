"""`flux get image ...` output and the status helpers behind it. Pure.

Tables reproduce flux2's `printers.TablePrinter` (olekukonko/tablewriter v0.0.5 with no borders, left
alignment, `NoWhiteSpace` and a tab as padding): every row cell is padded to its column width and followed
by a tab; header cells likewise, except the last, which is followed by a space. Headers are upper-cased.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from lab.core.record import dataclass

WAITING = "waiting to be reconciled"

# Accepted spellings -> Kind (flux's sub-command names, kinds, plurals, short names).
_KIND_ALIASES: dict[str, str] = {}
for _kind, _aliases in {
    "ImageRepository": ("repository", "imagerepository", "imagerepositories", "imgrepo", "imagerepo"),
    "ImagePolicy": ("policy", "imagepolicy", "imagepolicies", "imgpol", "imagepol"),
    "ImageUpdateAutomation": (
        "update",
        "imageupdateautomation",
        "imageupdateautomations",
        "iua",
        "imgupd",
        "imgauto",
    ),
}.items():
    _KIND_ALIASES[_kind.lower()] = _kind
    for _alias in _aliases:
        _KIND_ALIASES[_alias] = _kind


_PLURALS = {
    "ImageRepository": "imagerepositories",
    "ImagePolicy": "imagepolicies",
    "ImageUpdateAutomation": "imageupdateautomations",
}


def resource_name(kind: str) -> str:
    """`ImagePolicy` -> `imagepolicies.image.toolkit.fluxcd.io`, as the API server names it in errors."""
    return f"{_PLURALS[kind]}.image.toolkit.fluxcd.io"


def image_kind(name: str) -> str:
    """`policy`, `imagepolicies`, `imgpol` or `ImagePolicy` -> `ImagePolicy`; ValueError if unknown."""
    kind = _KIND_ALIASES.get(name.strip().lower())
    if kind is None:
        raise ValueError(f"unknown image kind {name!r}: use repository, policy or update")
    return kind


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition_time: str = ""
    observed_generation: int | None = None

    @property
    def is_true(self) -> bool:
        return self.status == "True"


def conditions(obj: Mapping[str, Any]) -> list[Condition]:
    status = obj.get("status")
    raw = status.get("conditions") if isinstance(status, Mapping) else None
    out: list[Condition] = []
    for c in raw if isinstance(raw, list) else []:
        if not isinstance(c, Mapping) or not c.get("type"):
            continue
        gen = c.get("observedGeneration")
        out.append(
            Condition(
                type=str(c["type"]),
                status=str(c.get("status", "Unknown")),
                reason=str(c.get("reason", "")),
                message=str(c.get("message", "")),
                last_transition_time=str(c.get("lastTransitionTime", "")),
                observed_generation=gen if isinstance(gen, int) else None,
            )
        )
    return out


def find_condition(obj: Mapping[str, Any], type_: str) -> Condition | None:
    # apimachinery's FindStatusCondition: the first condition of that type.
    return next((c for c in conditions(obj) if c.type == type_), None)


def ready_condition(obj: Mapping[str, Any]) -> Condition | None:
    return find_condition(obj, "Ready")


def parse_status_selector(text: str) -> tuple[str, str]:
    """`--status-selector ready=false` -> ("ready", "false"); ValueError with flux's message otherwise."""
    condition_type, sep, condition_status = text.partition("=")
    if not sep:
        raise ValueError(f"expected status selector in type=status format, but found: {text}")
    return condition_type, condition_status


def status_matches(obj: Mapping[str, Any], selector: tuple[str, str]) -> bool:
    """flux's `statusMatches`: the last condition whose type equals (case-insensitively) has that status."""
    condition_type, condition_status = selector
    found = [c for c in conditions(obj) if c.type.lower() == condition_type.lower()]
    return bool(found) and found[-1].status.lower() == condition_status.lower()


def status_and_message(obj: Mapping[str, Any]) -> tuple[str, str]:
    """READY and MESSAGE cells: the Ready condition, or `False` / `waiting to be reconciled`."""
    ready = ready_condition(obj)
    if ready is None:
        return "False", WAITING
    return ready.status, ready.message


@dataclass(frozen=True)
class ControllerStatus:
    """One Flux controller Deployment as `flux check` reports it (`images` may be unknown: empty)."""

    name: str
    ready: bool
    images: tuple[str, ...] = ()
    message: str = ""


def rfc3339nano(epoch_ns: int) -> str:
    """Go's `time.Now().UTC().Format(time.RFC3339Nano)`: trailing zeros of the fraction dropped."""
    seconds, nanos = divmod(epoch_ns, 1_000_000_000)
    base = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def rfc3339(value: object, tz: dt.tzinfo = dt.UTC) -> str:
    """A metav1.Time as Go's `Format(time.RFC3339)` prints it in `tz` (whole seconds); '' when absent.

    flux prints times in the CLI's local zone (metav1.Time decodes to time.Local); pass that zone as `tz`.
    """
    if not isinstance(value, str) or not value:
        return ""
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    local = when.astimezone(tz)
    offset = local.utcoffset() or dt.timedelta(0)
    if offset == dt.timedelta(0):
        return local.strftime("%Y-%m-%dT%H:%M:%SZ")
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{hours:02d}:{mins:02d}"


def _title_bool(value: object) -> str:
    return "True" if value is True else "False"


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    node: Any = obj
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def headers(kind: str, *, legacy: bool = False) -> list[str]:
    """Column headers as flux2 declares them (Flux >= 2.7; `legacy` = the <= 2.6 policy columns)."""
    if kind == "ImageRepository":
        return ["Name", "Last scan", "Suspended", "Ready", "Message"]
    if kind == "ImagePolicy":
        return (
            ["Name", "Latest image", "Ready", "Message"]
            if legacy
            else ["Name", "Image", "Tag", "Ready", "Message"]
        )
    if kind == "ImageUpdateAutomation":
        return ["Name", "Last run", "Suspended", "Ready", "Message"]
    raise ValueError(f"unsupported kind {kind}")


def summarise(
    kind: str,
    obj: Mapping[str, Any],
    *,
    all_namespaces: bool = False,
    include_kind: bool = False,
    legacy: bool = False,
    tz: dt.tzinfo = dt.UTC,
) -> list[str]:
    meta = obj.get("metadata") or {}
    name = str(meta.get("name", ""))
    if include_kind:
        name = f"{kind.lower()}/{name}"
    cells = [str(meta.get("namespace", "")), name] if all_namespaces else [name]
    ready, message = status_and_message(obj)
    if kind == "ImageRepository":
        cells += [
            rfc3339(_get(obj, "status", "lastScanResult", "scanTime"), tz),
            _title_bool(_get(obj, "spec", "suspend")),
            ready,
            message,
        ]
    elif kind == "ImagePolicy":
        if legacy:
            cells += [str(_get(obj, "status", "latestImage") or ""), ready, message]
        else:
            ref = _get(obj, "status", "latestRef")
            ref = ref if isinstance(ref, Mapping) else {}
            cells += [str(ref.get("name") or ""), str(ref.get("tag") or ""), ready, message]
    elif kind == "ImageUpdateAutomation":
        cells += [
            rfc3339(_get(obj, "status", "lastAutomationRunTime"), tz),
            _title_bool(_get(obj, "spec", "suspend")),
            ready,
            message,
        ]
    else:
        raise ValueError(f"unsupported kind {kind}")
    return cells


def display_width(text: str) -> int:
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or ch in "\u200b\u200d":
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """flux2's TablePrinter; an empty `header` prints rows only (`--no-header`)."""
    ncols = max([len(header), *(len(r) for r in rows)]) if (header or rows) else 0
    widths = [0] * ncols
    for i, h in enumerate(header):
        widths[i] = display_width(h)
    for row in rows:
        for i, cell in enumerate(row):
            longest = max((display_width(line) for line in cell.split("\n")), default=0)
            widths[i] = max(widths[i], longest)
    lines: list[str] = []
    if header:
        cells = []
        for i, h in enumerate(header):
            sep = " " if i == len(header) - 1 else "\t"
            cells.append(_pad(h.replace("_", " ").strip().upper(), widths[i]) + sep)
        lines.append("".join(cells))
    for row in rows:
        split = [cell.split("\n") for cell in row]
        height = max((len(s) for s in split), default=1)
        for x in range(height):
            lines.append(
                "".join(_pad(s[x] if x < len(s) else "  ", widths[i]) + "\t" for i, s in enumerate(split))
            )
    return "".join(line + "\n" for line in lines)


def namespace_phrase(namespace: str, all_namespaces: bool) -> str:
    return "any" if all_namespaces else f'"{namespace}"'


def empty_message(kind: str, namespace: str, all_namespaces: bool = False, name: str | None = None) -> str:
    """Flux's stderr line when nothing matched (with the logger's `✗ ` prefix)."""
    where = namespace_phrase(namespace, all_namespaces)
    if name:
        return f"✗ {kind} object '{name}' not found in {where} namespace"
    return f"✗ no {kind} objects found in {where} namespace"


def format_get_table(
    kind: str,
    objects: Sequence[Mapping[str, Any]],
    all_namespaces: bool = False,
    *,
    namespace: str = "flux-system",
    name: str | None = None,
    include_kind: bool = False,
    no_header: bool = False,
    legacy: bool = False,
    tz: dt.tzinfo = dt.UTC,
    status_selector: tuple[str, str] | None = None,
) -> str:
    """`flux get image repository|policy|update [NAME]` output.

    With no objects this returns Flux's `✗ ...` line (Flux prints it to stderr; so should the caller), or
    '' for `images all` (`include_kind=True`), which prints nothing for an empty kind. A status selector
    filters rows after that test, so a list with no matching row prints the header alone, as flux does.
    """
    kind = image_kind(kind)
    if name is not None:
        objects = [o for o in objects if (o.get("metadata") or {}).get("name") == name]
    if not objects:
        return "" if include_kind else empty_message(kind, namespace, all_namespaces, name) + "\n"
    header: list[str] = []
    if not no_header:
        header = headers(kind, legacy=legacy)
        if all_namespaces:
            header = ["Namespace", *header]
    rows = [
        summarise(kind, o, all_namespaces=all_namespaces, include_kind=include_kind, legacy=legacy, tz=tz)
        for o in objects
        if status_selector is None or status_matches(o, status_selector)
    ]
    return render_table(header, rows)


def format_get_all(
    by_kind: Mapping[str, Sequence[Mapping[str, Any]] | None],
    all_namespaces: bool = False,
    *,
    legacy: bool = False,
    tz: dt.tzinfo = dt.UTC,
    no_header: bool = False,
    status_selector: tuple[str, str] | None = None,
) -> str:
    """`flux get images all`: each non-empty kind's table with kind/name names, then a blank line.

    A kind mapped to None (its CRD is not served) is skipped, as Flux skips it.
    """
    out: list[str] = []
    for kind in ("ImageRepository", "ImagePolicy", "ImageUpdateAutomation"):
        objects = by_kind.get(kind)
        if not objects:
            continue
        out.append(
            format_get_table(
                kind,
                objects,
                all_namespaces,
                include_kind=True,
                legacy=legacy,
                tz=tz,
                no_header=no_header,
                status_selector=status_selector,
            )
            + "\n"
        )
    return "".join(out)
