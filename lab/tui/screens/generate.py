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
from textual.widgets import (
    Button,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from lab.tui.fields import FORM_FOCUS_KEYS, FieldInput
from lab.tui.screens.base import LabScreen

if TYPE_CHECKING:
    from lab.core.manifests.generate import GenerateOptions
    from lab.services.generate import GenerateResult
    from lab.services.mark import MarkFileResult

#: (input id, GenerateOptions field, label, the flags errors name); "" = not a plain field
FIELDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("name", "name", "Name (repository, policy)", ("--name",)),
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
# Flux's own default order; a semver range is the task's (its `[generate]`) or none: another task's
# range (the course's nginx 1.25.x) in a form about another image is a wrong answer, not a default.
POLICY_DEFAULTS = {"numerical": "asc", "alphabetical": "asc"}
POLICY_EXAMPLES = {"semver": "e.g. 1.4.x or >=1.0.0 <2.0.0"}


class GenerateScreen(LabScreen):
    HELP = (
        "Fill in the form; the preview on the right is exactly what `lab generate` writes. "
        "ctrl+s writes the files (a diff is shown first when they exist); `a` adds the objects to the "
        "files instead, keeping what they hold (one more image: change Name and Image, then `a`). The Marker tab adds "
        "the image policy marker to the task's Deployment (] and [ switch tabs). `e` opens a file in "
        "the lab's editor (on the Marker tab: the Deployment), for what the form does not write. `f` "
        "(or Tab from the preview) puts the cursor in Name, its text selected so typing replaces it "
        "(Tab, shift+Tab move between fields); Esc leaves a field so 1-7 and the other keys work again."
    )
    # Focus the preview first: a focused field or select would take the 1-7 area keys as input.
    AUTO_FOCUS = "#preview-scroll"
    BINDINGS: ClassVar[list[BindingType]] = [
        # Tab from the preview (the screen's first focus) goes straight to Name, where `f` puts the cursor:
        # through the tab bar and the API version it took three, and the letters typed meanwhile ran the
        # screen's keys (`e` opened the editor). Elsewhere it is the form's Tab (FORM_FOCUS_KEYS).
        Binding("tab", "next_field", "Focus Next", show=False, priority=True),
        *(binding for binding in FORM_FOCUS_KEYS if binding.key != "tab"),
        Binding("ctrl+s", "write", "Write files", priority=True),
        Binding("a", "add", "Add"),
        Binding("escape", "leave_field", "Leave field", show=False),
        Binding("f", "form", "Fill in the form", show=False),
        Binding("m", "mark", "Insert marker"),
        Binding("e", "edit", "Edit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.options: GenerateOptions | None = None
        #: each policy kind's default value: the lab's, with the task's `[generate]` one for its kind
        self._policy_defaults = dict(POLICY_DEFAULTS)
        self._task_kind = "semver"
        self._task_filter: dict[str, str] = {}
        #: the manifests rendered from `options`: once per form change, reused to diff and write
        self.texts: dict[str, str] = {}
        #: the line `m` marked last: the preview scrolls to it once it shows the marked file
        self._marked_line: int | None = None
        #: the file the task's checks call its deployment (checks.toml [params]); read in a worker
        self.deployment: str | None = None
        from lab.core.manifests.generate import DEFAULT_FILES

        #: where the task keeps the three manifests (checks.toml [params]); read in a worker
        self.files: tuple[str, ...] = DEFAULT_FILES
        #: the form the preview shows: the manifests are rendered once per change of it
        self._rendered_form: GenerateOptions | None = None
        #: why the form cannot be rendered (shown under the form, and by ctrl+s and a)
        self._form_error = ""
        #: the Marker tab's line about the Deployment ("FILE, marker on line N"); "" until it is read
        self._marker_where = ""
        #: what `m` adds to the form's policy: "" (a container's image line), ":tag" (a kustomize
        #: newTag, a Helm values tag:), None: nothing `m` can mark in the file (marked by hand)
        self._mark_suffix: str | None = ""
        #: HELP naming the task's marked file's kind once it is read (`?` shows it)
        self.help_now = ""

    def compose_area(self) -> ComposeResult:
        from lab.core.manifests.generate import REFLECT_DIGEST, options_from_mapping
        from lab.core.manifests.models import API_V1, API_V1BETA2

        # The task's `[generate]` table (task.toml) is the form's defaults, as for `lab generate --task`.
        defaults = options_from_mapping(self.lab.session.task.meta.generate)
        # What the cluster serves is asked in a worker after the first paint (`_ask_served_api`).
        served = API_V1
        values = {
            "policy_value": defaults.policy.value,
            **{field: str(getattr(defaults, field) or "") for _, field, _, _ in FIELDS if field},
        }
        policy_kind: str = defaults.policy.kind
        self._policy_defaults[policy_kind] = defaults.policy.value
        self._task_kind = policy_kind
        #: the task's tag filter, written for its policy kind: another kind leaves it out (as `lab generate`)
        self._task_filter = {i: values[i] for i in OPTIONAL}
        with TabbedContent(initial="manifests-pane"):
            with TabPane("Manifests", id="manifests-pane"), Horizontal(id="gen-body"):
                # Not a Tab stop of its own: its fields are, and it scrolls to the focused one.
                with VerticalScroll(id="gen-form", can_focus=False):
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
                        if input_id == "update_path":
                            # The policy's last field: after its tag filter, before the automation's.
                            yield Label("Digest reflection", classes="field-label")
                            yield Select(
                                [(value, value) for value in REFLECT_DIGEST],
                                value=defaults.reflect_digest,
                                allow_blank=False,
                                id="reflect_digest",
                                compact=True,
                            )
                        if input_id == "policy_value":
                            yield Label("Policy", classes="field-label")
                            yield Select(
                                [(kind, kind) for kind in POLICY_LABELS],
                                value=policy_kind,
                                allow_blank=False,
                                id="policy_kind",
                                compact=True,
                            )
                        if input_id == "policy_value":
                            label = POLICY_LABELS.get(policy_kind, label)
                        yield Label(label, classes="field-label", id=f"{input_id}-label", markup=False)
                        field_input = FieldInput(values[input_id], id=input_id, compact=True)
                        field_input.cursor_blink = False
                        yield field_input
                    yield Static("", id="form-error", markup=False)
                    yield Button("Write files (ctrl+s)", id="write", variant="primary", compact=True)
                    yield Button("Add to files (a)", id="add", compact=True)
                    yield Static("", id="write-result", classes="muted", markup=False)
                with VerticalScroll(id="preview-scroll"):
                    # Shown while the form is invalid: the preview below is then the last valid one.
                    yield Static("", id="preview-stale", classes="error-text", markup=False)
                    yield Static("", id="preview")
            with TabPane("Marker", id="marker-pane"), Vertical():
                yield Label("", id="marker-info", classes="muted", markup=False)
                with VerticalScroll(id="deployment-scroll"):
                    yield Static("", id="deployment")
                yield Button("Insert marker (m)", id="mark", variant="primary", compact=True)

    def on_mount(self) -> None:
        self._refresh_preview()
        self.watch(self.lab, "state", self._show_deployment)
        self.watch(self.lab, "session", self._session_changed)

    def action_edit(self) -> None:
        """`e`: the lab's editor; on the Marker tab the Deployment, else the file picker."""
        on_marker = self.query_one(TabbedContent).active == "marker-pane"
        self.lab.edit_file(self.deployment if on_marker and self.deployment else None)

    def _session_changed(self) -> None:
        self._ask_served_api()

    @work(
        thread=True, exclusive=True, group="served-api", exit_on_error=False, description="asking the cluster"
    )
    def _ask_served_api(self) -> None:
        """Preselect what the cluster serves (v1beta2 on Flux 2.3-2.6): it rejects anything else."""
        from lab.services.generate import default_api_version
        from lab.services.session import served_image_api

        kubeconfig = self.lab.session.kubeconfig
        served = served_image_api(kubeconfig) if kubeconfig is not None else default_api_version()
        if served is not None:
            self.app.call_from_thread(self._preselect, served)

    def _preselect(self, served: str) -> None:
        from lab.core.manifests.models import API_V1, API_V1BETA2

        select = self.query_one("#api", Select)
        if select.value == served and "(served)" in str(select.selection or ""):
            return
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
            reflect_digest=str(self.query_one("#reflect_digest", Select).value),
            **kwargs,  # type: ignore[arg-type]
        )

    @on(Select.Changed, "#policy_kind")
    def _policy_kind_changed(self, event: Select.Changed) -> None:
        kind = str(event.value)
        self.query_one("#policy_value-label", Label).update(POLICY_LABELS.get(kind, "Value"))
        value = self.query_one("#policy_value", Input)
        # An untouched value follows the kind (the task's own default for it); a typed one is kept.
        if not value.value or value.value in self._policy_defaults.values():
            value.value = self._policy_defaults.get(kind, "")
        value.placeholder = POLICY_EXAMPLES.get(kind, "")
        # The task's filter (an extract to order by) goes with the task's kind: an untouched one is
        # left out for another kind and comes back with the task's; a typed one is kept.
        for input_id, task_value in self._task_filter.items():
            field_input = self.query_one(f"#{input_id}", Input)
            if kind == self._task_kind and not field_input.value:
                field_input.value = task_value
            elif kind != self._task_kind and field_input.value == task_value:
                field_input.value = ""

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
            if opts == self._rendered_form:
                return  # nothing changed since the last rendering (every field posts Changed as it mounts)
            self._rendered_form = opts
            texts = render_manifests(opts)
        except LabError as err:
            self.options = None
            bad = next(((i, label) for i, _, label, flags in FIELDS if err.field in flags), None)
            text = str(err)
            if bad is not None and err.field:
                # The form's own label, not the command-line flag the generator's message names.
                # "--flag: why" and "--flag uses $x, but...": the flag as the message's subject.
                import re

                text = re.sub(rf"{re.escape(err.field)}(?=[: ])", bad[1], text, count=1)
                self.query_one(f"#{bad[0]}", Input).add_class("-bad")
            error.update(f"✗ {text}")
            error.add_class("error-text")
            # Under the field it is about, where the learner types: after the last field it sat below
            # the fold of a 24-row terminal, and only ctrl+s said why.
            self._place_error(bad[0] if bad is not None else None)
            self._form_error = text
            # The last valid preview stays, dimmed, under what ctrl+s would do now: write nothing.
            stale = self.query_one("#preview-stale", Static)
            stale.update(
                f"not written: {text} (ctrl+s writes nothing until it is fixed; below, dimmed: "
                "the last valid preview)"
            )
            stale.display = True
            self.query_one("#preview", Static).add_class("-stale")
            return
        self.options = opts
        self.texts = dict(texts)
        self._show_marker_info()
        error.update("")
        error.remove_class("error-text")
        self._place_error(None)
        self.query_one("#preview-stale", Static).display = False
        self.query_one("#preview", Static).remove_class("-stale")
        # The task's file names (the folder would wrap the narrow pane; ctrl+s lists the full paths).
        names = (Path(name).name for name in self.files)
        combined = "".join(f"# {name}\n{text}" for name, text in zip(names, texts.values(), strict=True))
        self.query_one("#preview", Static).update(yaml_content(combined))

    def _place_error(self, input_id: str | None) -> None:
        """`#form-error` right under the field `input_id`, or (None) after the last field, where it
        sits empty while the form is valid."""
        form = self.query_one("#gen-form", VerticalScroll)
        error = self.query_one("#form-error", Static)
        anchor = self.query_one(f"#{input_id or FIELDS[-1][0]}", Input)
        children = list(form.children)
        if children.index(error) != children.index(anchor) + 1:
            form.move_child(error, after=anchor)
        if input_id is not None:
            # Once the moved error is laid out: before, its region was the old one after the last field,
            # and scrolling to it took the field the learner types in off screen.
            error.call_after_refresh(self._show_error, input_id)

    def _show_error(self, input_id: str) -> None:
        """Scroll the form only when the error under the field is not all on screen, and never the
        field's label off it (scrolled to unasked, the field the learner types in went off screen)."""
        form = self.query_one("#gen-form", VerticalScroll)
        error = self.query_one("#form-error", Static)
        if form.region.contains_region(error.region):
            return
        form.scroll_to_widget(error, animate=False, immediate=True)
        form.scroll_to_widget(self.query_one(f"#{input_id}-label", Label), animate=False, immediate=True)

    def action_form(self) -> None:
        """`f` (and Tab from the preview): the cursor into Name, its text selected, on the Manifests tab:
        the field the lessons change first (another image: Name, Image, the range, then `a`); Tab walks
        the others."""
        self.query_one(TabbedContent).active = "manifests-pane"
        self.query_one("#name", Input).focus()

    def action_next_field(self) -> None:
        if self.focused is self.query_one("#preview-scroll"):
            self.action_form()
        else:
            self.app.action_focus_next()

    def action_leave_field(self) -> None:
        if isinstance(self.focused, Input | Select):
            self.query_one("#preview-scroll").focus()

    # --- writing ----------------------------------------------------------------------------------

    @on(Button.Pressed, "#write")
    def action_write(self) -> None:
        if self._ready():
            self._plan_write(self.options, dict(self.texts))

    @on(Button.Pressed, "#add")
    def action_add(self) -> None:
        if self._ready():
            self._add(self.options, dict(self.texts))

    def _ready(self) -> bool:
        if self.options is None:
            # The reason sits under the last field, below the fold of a 24-row terminal.
            self.notify(
                self._form_error or "Fix the highlighted field first.",
                title="Not written",
                severity="warning",
            )
            return False
        # Whatever held the focus (often a field), the dialog hands it back to the preview: keys
        # typed after it (5, p...) must not land in the Image field.
        self.query_one("#preview-scroll").focus()
        return True

    @work(thread=True, exclusive=True, group="write", exit_on_error=False, description="adding the objects")
    def _add(self, opts: GenerateOptions, texts: dict[str, str]) -> None:
        # Adding replaces nothing, so there is no diff to confirm.
        self._write_files(opts, texts, self._task_files(), force=False, add=True)

    @work(
        thread=True, exclusive=True, group="write", exit_on_error=False, description="writing the manifests"
    )
    def _plan_write(self, opts: GenerateOptions, texts: dict[str, str]) -> None:
        from lab.errors import LabError
        from lab.services.session import generate_diff

        files = self._task_files()
        try:
            diff = generate_diff(self.lab.session.workspace, opts, texts=texts, files=files)
        except LabError as err:
            self.app.call_from_thread(self._not_written, err)
            return
        if not diff:
            self._write_files(opts, texts, files, force=False)
            return
        self.app.call_from_thread(self._confirm, opts, texts, diff)

    def _confirm(self, opts: GenerateOptions, texts: dict[str, str], diff: str) -> None:
        from lab.tui.screens.confirm import ConfirmDiff

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._write(opts, texts)
            else:
                self.notify("Nothing written; your files are as they were.")

        self.app.push_screen(ConfirmDiff("These files exist and differ. Overwrite them?", diff), answered)

    @work(
        thread=True, exclusive=True, group="write", exit_on_error=False, description="writing the manifests"
    )
    def _write(self, opts: GenerateOptions, texts: dict[str, str]) -> None:
        self._write_files(opts, texts, self._task_files(), force=True)

    def _write_files(
        self,
        opts: GenerateOptions,
        texts: dict[str, str],
        files: tuple[str, ...],
        *,
        force: bool,
        add: bool = False,
    ) -> None:
        from lab.errors import LabError
        from lab.services.generate import generate

        try:
            result = generate(
                self.lab.session.workspace, opts, force=force, texts=texts, files=files, add=add
            )
        except LabError as err:
            self.app.call_from_thread(self._not_written, err)
            return
        self.app.call_from_thread(self._written, result, add)

    def _task_files(self) -> tuple[str, ...]:
        """The task's three files, read again (in the worker that writes them)."""
        from lab.services.tasks import task_automation_files

        return task_automation_files(self.lab.session.task)

    def _not_written(self, err: Exception) -> None:
        # The list of the last write must not stand for this one, which wrote nothing.
        self.query_one("#write-result", Static).update(f"not written: {err}")
        self.notify(str(err), title="Not written", severity="error", timeout=10)

    def _written(self, result: GenerateResult, add: bool = False) -> None:
        root = self.lab.session.workspace.resolve()
        lines = [f"{f.status:11} {_rel(f.path, root)}" for f in result.files]
        lines += [f"kept: {f.path.name} has {f.present} already" for f in result.files if f.present]
        self.query_one("#write-result", Static).update("\n".join(lines))
        if add:
            # A file that holds just this object already is "unchanged": kept as it was all the same.
            kept = sum(bool(f.present) or f.status == "unchanged" for f in result.files)
            written = sum(f.status in ("added", "created") for f in result.files)
            also = f", {kept} kept as they were" if kept else ""
            self.notify(f"added to {written} of {len(result.files)} files{also}; next: the Marker tab (])")
            for f in result.files:
                if f.differs:
                    self.notify(
                        f"{f.path.name} has {f.present} already, unlike the form: left as it is "
                        "(e edits it; ctrl+s replaces the files)",
                        severity="warning",
                        timeout=10,
                    )
        else:
            # Overwritten files were copied first (as `lab generate --force` says): say where.
            saved = (
                f"; the previous versions are in {_rel(result.backups[0].parent, root)}"
                if result.backups
                else ""
            )
            self.notify(
                f"{len(result.files)} files in {_rel(result.out_dir, root)}{saved}; next: the Marker tab (])"
            )
        self.lab.refresh_state(fetch=False)

    # --- the marker -------------------------------------------------------------------------------

    def _policy_ref(self) -> str:
        opts = self.options
        if opts is None:
            from lab.core.manifests.generate import GenerateOptions

            opts = GenerateOptions()
        return f"{opts.namespace}:{opts.name}"

    def _show_deployment(self) -> None:
        """The Deployment as it is on disk, read again whenever the workspace state changes."""
        if self.lab.state is None:
            self.query_one("#marker-info", Label).update("reading…")
            return
        self._read_deployment()

    @work(thread=True, exclusive=True, group="deployment", exit_on_error=False, description="the Deployment")
    def _read_deployment(self) -> None:
        from lab.errors import LabError
        from lab.services.edit import open_file
        from lab.services.tasks import task_deployment

        deployment = task_deployment(self.lab.session.task)
        files = self._task_files()
        if files != self.files:
            self.app.call_from_thread(self._show_files, files)
        from lab.core.marker import marker_ref_for

        text: str | None = None
        suffix: str | None = ""
        ignored: tuple[int, str] | None = None
        if deployment is not None:
            try:
                opened = open_file(self.lab.session.workspace, deployment)
                text = opened.text if opened.digest is not None else None
            except LabError:
                text = None
            if text is not None:
                self.app.call_from_thread(self._name_marked_kind, _first_kind(text, deployment))
                # Parsed here, off the UI thread: which marker `m` writes (the form names the policy).
                ref = marker_ref_for(text, "ns:name", deployment)
                suffix = None if ref is None else ref[len("ns:name") :]
                from lab.services.mark import policy_keys

                ignored = _ignored_marker(text, deployment, policy_keys(self.lab.session.workspace))
        self.app.call_from_thread(self._paint_deployment, deployment, text, suffix, ignored)

    def _name_marked_kind(self, kind: str | None) -> None:
        """The help (`?`) names the kind of the task's marked file (a HelmRelease, a Kustomization), not
        always a Deployment."""
        self.help_now = (self.HELP or "").replace("Deployment", kind or "marked file")

    def _show_files(self, files: tuple[str, ...]) -> None:
        self.files = files
        self._rendered_form = None  # the preview names the files: render it again under their names
        self._refresh_preview()

    def _paint_deployment(
        self,
        deployment: str | None,
        text: str | None,
        suffix: str | None = "",
        ignored: tuple[int, str] | None = None,
    ) -> None:
        """`ignored`: the first marker Flux ignores, (line, why), found by the worker that read `text`."""
        from lab.core.text import escape_controls
        from lab.tui.diff import yaml_content

        self.deployment = deployment
        self._marker_where = ""
        if suffix != self._mark_suffix:
            self._mark_suffix = suffix
            self.query_one("#mark", Button).display = suffix is not None
            self.refresh_bindings()
        info = self.query_one("#marker-info", Label)
        if deployment is None:
            info.update("This task names no Deployment to mark: e opens any file in the editor.")
            self.query_one("#deployment", Static).update("")
            return
        shown = escape_controls(deployment)
        if text is None:
            info.update(f"{shown}: missing or unreadable")
            self.query_one("#deployment", Static).update("")
            return
        lines = [n for n, ln in enumerate(text.splitlines(), 1) if '"$imagepolicy"' in ln]
        where = f", markers on lines {', '.join(map(str, lines))}" if len(lines) > 1 else ""
        where = where or (f", marker on line {lines[0]}" if lines else ", no marker yet")
        # A marker where Flux does not read it is no marker at all: say so, and why (`lab check` does).
        if ignored is not None:
            where += f" - Flux ignores line {ignored[0]}: {escape_controls(ignored[1])}"
        self._marker_where = f"{shown}{where}"
        self._show_marker_info()
        self.query_one("#deployment", Static).update(yaml_content(text))
        if self._marked_line is not None:
            line, self._marked_line = self._marked_line, None
            self.call_after_refresh(self._show_deployment_line, line)

    def _show_deployment_line(self, line: int) -> None:
        """The Marker preview scrolled to `line` (1-based), two lines above it: the marked line is often
        below the fold of a 24-row terminal."""
        scroll = self.query_one("#deployment-scroll", VerticalScroll)
        scroll.scroll_to(y=max(0, line - 3), animate=False)

    def _show_marker_info(self) -> None:
        """The Deployment's line with the policy `m` marks now: the form's, so it follows the form."""
        if not self._marker_where:
            return
        ref = self._policy_ref()
        if self._mark_suffix == "":
            text = f"{self._marker_where} · m marks {ref} · e edits"
        elif self._mark_suffix is not None:
            text = f"{self._marker_where} · m marks its tag with {ref}{self._mark_suffix} · e edits"
        else:
            # Nothing here `m` (or `lab mark`) can mark: say what to write where, by hand.
            text = (
                f"{self._marker_where} · no container image: line or tag field to mark: e opens it; end the "
                f'line Flux should update with # {{"$imagepolicy": "{ref}"}} (a full image) or "{ref}:tag" '
                "(a tag alone; :name a name)"
            )
        self.query_one("#marker-info", Label).update(text)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `m` is not offered where it cannot mark (the Marker tab says how to mark by hand).
        if action == "mark" and self._mark_suffix is None:
            return False
        return super().check_action(action, parameters)

    @on(Button.Pressed, "#mark")
    def action_mark(self) -> None:
        self.query_one(TabbedContent).active = "marker-pane"
        self._mark(self._policy_ref() + (self._mark_suffix or ""))

    @work(thread=True, exclusive=True, group="mark", exit_on_error=False, description="inserting the marker")
    def _mark(self, policy: str) -> None:
        from lab.errors import LabError
        from lab.services.mark import mark_file
        from lab.services.tasks import task_deployment

        deployment = task_deployment(self.lab.session.task)
        if deployment is None:
            raise LabError("this task names no Deployment to mark", hint="e opens a file in the editor")
        try:
            # A part marker (`:tag`) found in place for another policy is the task's own (an exercise's
            # starter marks it): the form's policy does not replace it.
            outcome = mark_file(
                self.lab.session.workspace, Path(deployment), policy, keep_other=policy.count(":") == 2
            )
        except LabError as err:
            if err.field not in ("containers", "--container"):
                raise
            # The command line's way out (--container) is not the app's: the editor is.
            raise LabError(
                err.message,
                file=err.file,
                hint="m marks a container's image: line or a tag field; this task's markers go where its "
                "lesson says: e opens the file, add each by hand",
            ) from None
        self.app.call_from_thread(self._marked, outcome)

    def _marked(self, outcome: MarkFileResult) -> None:
        from lab.core.marker import flux_reads_marker, moved_text
        from lab.core.text import escape_controls

        result = outcome.result
        verb = "added" if result.changed else "already there"
        was = ""
        if result.changed and result.replaced_comment:
            # The marker there named another policy (a typo, typically): say it is gone.
            verb = "replaced"
            was = f" (it named {flux_reads_marker(result.replaced_comment) or result.replaced_comment})"
        if outcome.result.changed:
            self._marked_line = outcome.result.line  # shown once the preview shows the new file
        else:
            self._show_deployment_line(outcome.result.line)
        moved = moved_text(result.moved_from, result.taken_from)
        moved = f"; {moved}" if moved else ""
        push = "; next: commit and push (5, p)" if result.changed else ""
        self.notify(
            f"marker {verb} on line {result.line} of {outcome.display}{escape_controls(was)}{moved}{push}"
        )
        for warning in outcome.warnings:
            self.notify(warning, severity="warning", timeout=10)
        self.lab.refresh_state(fetch=False)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _ignored_marker(
    text: str, deployment: str, policies: frozenset[str] | None = None
) -> tuple[int, str] | None:
    """The first `"$imagepolicy"` line of `text` whose marker Flux does not read, or that names none of
    `policies` (the repository's ImagePolicies): (line, why). Parses the Deployment: call it in a worker."""
    from lab.core.setters.find import find_markers

    lines = {n for n, ln in enumerate(text.splitlines(), 1) if '"$imagepolicy"' in ln}
    markers = find_markers(text, deployment, policies=policies)
    found = next((m for m in markers if m.line in lines and not m.applies), None)
    return None if found is None else (found.line, found.why_ignored or "")


def _first_kind(text: str, file: str) -> str | None:
    """The `kind` of the first YAML document in `text` that has one (None: no YAML, no kind)."""
    from lab.core.yamlsafe import load_all
    from lab.errors import LabError

    try:
        docs = load_all(text, file)
    except LabError:
        return None
    kinds = (d.data.get("kind") for d in docs if isinstance(d.data, dict))
    return next((k for k in kinds if isinstance(k, str) and k), None)
