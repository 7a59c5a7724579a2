"""Generator: the three manifests from a form, with a live YAML preview, then the marker step.

Everything here goes through lab.core.manifests.generate (render, validation) and lab.services
(generate, mark_file), exactly what `lab generate` and `lab mark` do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

if TYPE_CHECKING:
    from lab.core.manifests.generate import GenerateOptions
    from lab.tui.app import LabApp

DEPLOYMENT = "apps/base/nginx/deployment.yaml"

#: (input id, GenerateOptions field, label, the flags errors name); "" = not a plain field
FIELDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("name", "name", "Name (all three objects)", ("--name",)),
    ("namespace", "namespace", "Namespace", ("--namespace",)),
    ("image", "image", "Image (no tag)", ("--image",)),
    ("interval", "interval", "Scan interval", ("--interval",)),
    ("policy_value", "", "Semver range", ("--semver", "--numerical", "--alphabetical")),
    ("filter_pattern", "filter_pattern", "Tag filter pattern (optional)", ("--filter-pattern",)),
    ("filter_extract", "filter_extract", "Tag filter extract (optional)", ("--filter-extract",)),
    ("update_path", "update_path", "update.path", ("--update-path",)),
    ("branch", "branch", "Checkout branch", ("--branch",)),
    ("push_branch", "push_branch", "Push branch", ("--push-branch",)),
    ("author_email", "author_email", "Commit author e-mail", ("--author-email",)),
)
OPTIONAL = {"filter_pattern", "filter_extract"}
POLICY_LABELS = {
    "semver": "Semver range",
    "numerical": "Order (asc/desc)",
    "alphabetical": "Order (asc/desc)",
}
POLICY_DEFAULTS = {"semver": "1.25.x", "numerical": "asc", "alphabetical": "asc"}


class GenerateScreen(Screen[None]):
    HELP = (
        "Fill in the form; the preview on the right is exactly what `lab generate` writes. "
        "ctrl+s writes the files (a diff is shown first when they exist). The Marker tab adds "
        "the image policy marker to the nginx Deployment. Esc leaves a field so 1-7 switch areas."
    )
    # Focus the preview first: a focused field or select would take the 1-7 area keys as input.
    AUTO_FOCUS = "#preview-scroll"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "write", "Write files", priority=True),
        Binding("escape", "leave_field", "Leave field", show=False),
        Binding("m", "mark", "Insert marker"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.options: GenerateOptions | None = None

    @property
    def lab(self) -> LabApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        from lab.core.manifests.generate import GenerateOptions
        from lab.core.manifests.models import API_V1, API_V1BETA2
        from lab.services.generate import default_api_version

        defaults = GenerateOptions()
        served = default_api_version()
        values = {
            "policy_value": defaults.policy.value,
            **{field: str(getattr(defaults, field) or "") for _, field, _, _ in FIELDS if field},
        }
        yield Header()
        with TabbedContent(initial="manifests-pane"):
            with TabPane("Manifests", id="manifests-pane"), Horizontal(id="gen-body"):
                with VerticalScroll(id="gen-form"):
                    yield Label("API version", classes="field-label")
                    yield Select(
                        [
                            (f"v1{' (served)' if served == API_V1 else ''}", API_V1),
                            (f"v1beta2{' (served)' if served == API_V1BETA2 else ''}", API_V1BETA2),
                        ],
                        value=served,
                        allow_blank=False,
                        id="api",
                        compact=True,
                    )
                    for input_id, _field, label, _flags in FIELDS:
                        if input_id == "policy_value":
                            yield Label("Policy", classes="field-label")
                            yield Select(
                                [(kind, kind) for kind in POLICY_LABELS],
                                value="semver",
                                allow_blank=False,
                                id="policy_kind",
                                compact=True,
                            )
                        yield Label(label, classes="field-label", id=f"{input_id}-label", markup=False)
                        field_input = Input(values[input_id], id=input_id, compact=True)
                        field_input.cursor_blink = False
                        yield field_input
                    yield Static("", id="form-error", markup=False)
                    yield Button("Write files (ctrl+s)", id="write", variant="primary", compact=True)
                    yield Static("", id="write-result", classes="muted", markup=False)
                with VerticalScroll(id="preview-scroll"):
                    yield Static("", id="preview")
            with TabPane("Marker", id="marker-pane"), Vertical():
                yield Label("", id="marker-info", classes="muted", markup=False)
                with VerticalScroll(id="deployment-scroll"):
                    yield Static("", id="deployment")
                yield Button("Insert marker (m)", id="mark", variant="primary", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._refresh_preview()
        self._show_deployment()
        if self.lab.session.kubeconfig is not None:
            self._ask_served_api()

    @work(thread=True, exclusive=True, group="served-api", exit_on_error=False)
    def _ask_served_api(self) -> None:
        """Preselect what the cluster serves (v1beta2 on Flux 2.3-2.6): it rejects anything else."""
        from lab.services.session import served_image_api

        try:
            served = served_image_api(self.lab.session.kubeconfig)
        except Exception as err:  # a LabError's one line, and never a traceback on screen
            self.app.notify(f"cannot ask the cluster for the image API: {err}", severity="warning")
            return
        if served is not None:
            self.app.call_from_thread(self._preselect, served)

    def _preselect(self, served: str) -> None:
        from lab.core.manifests.models import API_V1, API_V1BETA2

        select = self.query_one("#api", Select)
        select.set_options(
            [
                (f"{version.rpartition('/')[2]}{' (served)' if version == served else ''}", version)
                for version in (API_V1, API_V1BETA2)
            ]
        )
        select.value = served

    # --- the form ---------------------------------------------------------------------------------

    def _read_form(self) -> GenerateOptions:
        from lab.core.manifests.generate import GenerateOptions
        from lab.core.policy.spec import PolicySpec

        api = self.query_one("#api", Select).value
        kind = str(self.query_one("#policy_kind", Select).value)
        values = {i: self.query_one(f"#{i}", Input).value for i, _, _, _ in FIELDS}
        kwargs: dict[str, str | None] = {
            field: (values[i] or None) if i in OPTIONAL else values[i] for i, field, _, _ in FIELDS if field
        }
        return GenerateOptions(
            api_version=str(api),
            policy=PolicySpec(kind, values["policy_value"]),  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )

    @on(Select.Changed, "#policy_kind")
    def _policy_kind_changed(self, event: Select.Changed) -> None:
        kind = str(event.value)
        self.query_one("#policy_value-label", Label).update(POLICY_LABELS.get(kind, "Value"))
        value = self.query_one("#policy_value", Input)
        if value.value in POLICY_DEFAULTS.values():
            value.value = POLICY_DEFAULTS.get(kind, "")

    @on(Input.Changed)
    @on(Select.Changed)
    def _form_changed(self) -> None:
        self._refresh_preview()

    def _refresh_preview(self) -> None:
        from lab.core.manifests.generate import render_manifests
        from lab.errors import LabError
        from lab.tui.diff import yaml_content

        error = self.query_one("#form-error", Static)
        for input_id, _, _, _ in FIELDS:
            self.query_one(f"#{input_id}", Input).remove_class("-bad")
        try:
            opts = self._read_form()
            texts = render_manifests(opts)
        except LabError as err:
            self.options = None
            error.update(f"✗ {err}")
            error.add_class("error-text")
            bad = next((i for i, _, _, flags in FIELDS if err.field in flags), None)
            if bad is not None:
                self.query_one(f"#{bad}", Input).add_class("-bad")
            return
        self.options = opts
        error.update("")
        error.remove_class("error-text")
        combined = "".join(f"# {name}\n{text}" for name, text in texts.items())
        self.query_one("#preview", Static).update(yaml_content(combined))

    def action_leave_field(self) -> None:
        if isinstance(self.focused, Input | Select):
            self.query_one("#preview-scroll").focus()

    # --- writing ----------------------------------------------------------------------------------

    @on(Button.Pressed, "#write")
    def action_write(self) -> None:
        from lab.errors import LabError
        from lab.services.session import generate_diff
        from lab.tui.screens.confirm import ConfirmDiff

        if self.options is None:
            self.notify("Fix the highlighted field first.", severity="warning")
            return
        opts = self.options
        workspace = self.lab.session.workspace
        try:
            diff = generate_diff(workspace, opts)
        except LabError as err:
            self.notify(str(err), severity="error")
            return
        if not diff:
            self._write(opts, force=False)
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._write(opts, force=True)
            else:
                self.notify("Nothing written; your files are as they were.")

        self.app.push_screen(ConfirmDiff("These files exist and differ. Overwrite them?", diff), answered)

    def _write(self, opts: GenerateOptions, *, force: bool) -> None:
        from lab.errors import LabError
        from lab.services.generate import generate

        try:
            result = generate(self.lab.session.workspace, opts, force=force)
        except (LabError, OSError) as err:
            self.notify(str(err), severity="error")
            return
        root = self.lab.session.workspace.resolve()
        lines = [f"{f.status:11} {_rel(f.path, root)}" for f in result.files]
        self.query_one("#write-result", Static).update("\n".join(lines))
        self.notify(f"{len(result.files)} files in {_rel(result.out_dir, root)}; next: the Marker tab")

    # --- the marker -------------------------------------------------------------------------------

    def _policy_ref(self) -> str:
        opts = self.options
        if opts is None:
            from lab.core.manifests.generate import GenerateOptions

            opts = GenerateOptions()
        return f"{opts.namespace}:{opts.name}"

    def _show_deployment(self, line: int | None = None) -> None:
        from lab.tui.diff import yaml_content

        path = self.lab.session.workspace / DEPLOYMENT
        info = self.query_one("#marker-info", Label)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            info.update(f"{DEPLOYMENT}: cannot read ({err.__class__.__name__})")
            return
        where = f", marker on line {line}" if line else ""
        info.update(f"{DEPLOYMENT}{where} · policy {self._policy_ref()}")
        self.query_one("#deployment", Static).update(yaml_content(text))

    @on(Button.Pressed, "#mark")
    def action_mark(self) -> None:
        from lab.errors import LabError
        from lab.services.mark import mark_file

        workspace = self.lab.session.workspace
        try:
            outcome = mark_file(workspace, Path(DEPLOYMENT), self._policy_ref())
        except (LabError, OSError) as err:
            self.notify(str(err), severity="error")
            return
        self.query_one(TabbedContent).active = "marker-pane"
        verb = "added" if outcome.result.changed else "already there"
        self.notify(f"marker {verb} on line {outcome.result.line} of {outcome.display}")
        for warning in outcome.warnings:
            self.notify(warning, severity="warning", timeout=10)
        self._show_deployment(outcome.result.line)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)
