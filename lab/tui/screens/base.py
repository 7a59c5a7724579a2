"""What every area screen shares: the app's state line, keys for sub-tabs and scrolling, and the
one worker error handler (a screen's workers report to the app's `worker_failed`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import Worker

from lab.tui.widgets.footer import KeyFooter
from lab.tui.widgets.static import show

if TYPE_CHECKING:
    from textual.app import ComposeResult

    from lab.services.sync import OriginStatus
    from lab.tui.app import LabApp


def state_line(app: LabApp) -> str:
    """One line, the same on every screen: git (local and origin), uncommitted files, checks."""
    parts: list[str] = []
    state = app.state
    if state is None:
        parts.append("reading the workspace…")
    elif state.git_error is not None:
        parts.append("git: cannot read the repository")
    elif state.git is not None:
        parts.extend(git_parts(state.git))
    checks = app.checks
    if checks.running:
        parts.append("checks running…")
    elif checks.error is not None:
        parts.append("checks could not run")
    elif checks.report is not None:
        score = f"checks {checks.report.score}/{checks.report.max_score}"
        # Not "before your last change": Flux's commits (pulled, or on origin) change what they read too.
        parts.append(score + (" (out of date)" if app.stale_checks() else ""))
    else:
        parts.append("checks not run yet")
    if app.refreshing and state is not None:
        parts.append("refreshing…")
    return " · ".join(parts)


def git_parts(git: OriginStatus) -> list[str]:
    from lab.adapters.git import by_author, count_commits

    parts: list[str] = []
    branch = git.branch or "HEAD (detached)"
    if not git.has_origin:
        parts.append(f"{branch}: no remote origin")
    elif git.branch is None and git.head is not None:
        # A detached HEAD has no origin branch of its own: whether origin has its commit is what counts.
        where = "on origin" if git.detached_on else "not on origin"
        parts.append(f"detached at {git.head[:7]} ({where})")
    elif git.head is None:
        parts.append(f"{branch}: no commits")
    elif git.remote_head is None:
        parts.append(f"{branch}: not on origin yet")
    elif git.ahead and git.behind:
        parts.append(
            f"{branch}: diverged, {len(git.ahead)} to push, origin +{len(git.behind)}{by_author(git.behind)}"
        )
    elif git.behind:
        parts.append(f"origin has {count_commits(len(git.behind))}{by_author(git.behind)} you don't have")
    elif git.ahead:
        parts.append(f"{branch}: {count_commits(len(git.ahead))} not pushed")
    else:
        parts.append(f"{branch} = origin/{branch}")
    if git.flux.mismatch():
        # The cluster runs another branch than the sync file names: both, short.
        file = git.flux.file.rsplit("/", 1)[-1] or "the sync file"
        parts.append(f"Flux deploys {git.watched} (cluster; {file}: {git.flux.file_branch or 'main'})")
    elif git.branch is not None and git.branch != git.watched:
        parts.append(f"Flux deploys {git.watched}")  # what is pushed here is not deployed
    if git.in_progress is not None:
        parts.append(f"{git.in_progress} stopped, {len(git.conflicted)} conflicted")
    uncommitted = len(git.dirty) + len(git.untracked)
    if uncommitted:
        parts.append(f"{uncommitted} file{'' if uncommitted == 1 else 's'} uncommitted")
    if git.fetch_error:
        parts.append("origin unreachable")
    return parts


class StateBar(Static):
    """The workspace state as one line under the header, repainted whenever it changes."""

    def __init__(self) -> None:
        super().__init__("", id="state-bar", markup=False)

    def on_mount(self) -> None:
        app: LabApp = self.app  # type: ignore[assignment]
        for attribute in ("state", "checks", "refreshing"):
            self.watch(app, attribute, self._paint, init=False)
        self._paint()

    def _paint(self, _value: object = None) -> None:
        from lab.core.text import escape_controls

        # Author names and file names come from the repository: shown, never passed to the terminal.
        # As wide as the screen: "refreshing…", which comes and goes at every workspace read, moves nothing.
        show(self, escape_controls(state_line(self.app)), fixed_width=True)  # type: ignore[arg-type]


def key_footer() -> Footer:
    """The footer of every screen. Without the palette's `^p palette`: `?` lists ctrl+p with every
    other key, and the palette hint pushed `? Keys` off an 80-column footer."""
    return KeyFooter(compact=True, show_command_palette=False)


def palette_actions(screen_class: type[Screen[None]], *, sandbox: bool = True) -> list[Binding]:
    """The actions a screen offers by key, for the command palette (navigation keys left out, and the
    screen's `SANDBOX_ACTIONS` unless the lab is on the sandbox: they have no key there either)."""
    own = screen_class.__dict__.get("BINDINGS", [])
    hidden = _NAVIGATION if sandbox else _NAVIGATION | getattr(screen_class, "SANDBOX_ACTIONS", frozenset())
    return [b for b in own if isinstance(b, Binding) and b.description and b.action not in hidden]


_NAVIGATION = {"leave_field", "tab(1)", "tab(-1)", "page(1)", "page(-1)"}


class LabScreen(Screen[None]):
    """Base of the area screens."""

    #: Actions only the default sandbox can do (`lab.services.session.is_default_sandbox`): elsewhere the
    #: screen's `check_action` hides their key and the palette leaves them out.
    SANDBOX_ACTIONS: ClassVar[frozenset[str]] = frozenset()

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right_square_bracket", "tab(1)", "Next tab", key_display="]", show=False),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", key_display="[", show=False),
        Binding("pagedown", "page(1)", "Scroll down a page", show=False),
        Binding("pageup", "page(-1)", "Scroll up a page", show=False),
    ]

    #: What the screen's styles were last worked out under (`styled_under`): see `_on_screen_resume`.
    _styled_under: tuple[object, ...] | None = None

    @property
    def lab(self) -> LabApp:
        return self.app  # type: ignore[return-value]

    def styled_under(self) -> tuple[object, ...]:
        """What the styles of a screen's widgets depend on outside the screen: the app's CSS (its count
        moves on with a theme or CSS change), the app's classes and its pseudo-classes (focus, dark...).
        A widget's own classes and pseudo-classes restyle it as they change, shown or not."""
        app = self.app
        return (app._css_update_count, frozenset(app.classes), app.pseudo_classes)

    def mark_styled(self) -> None:
        """Say that the screen's widgets are (or, as it mounts, will be) styled under the app as it is now."""
        self._styled_under = self.styled_under()

    def _on_screen_suspend(self) -> None:
        # Shown until now, the screen followed every change (Textual restyles the screen on top).
        self.mark_styled()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Textual's own handler (Screen's), which restyles every widget of the screen when
        # asked: each time an area is shown, twice the first time. On the Lesson, hundreds of Markdown
        # widgets, a CPU-second. Asked only when something the styles depend on changed meanwhile.
        if event.refresh_styles and self._styled_under == self.styled_under():
            event.refresh_styles = False
        self.mark_styled()

    def compose(self) -> ComposeResult:
        """Every area alike: the header, the state bar, the area's own widgets, the key footer."""
        yield Header()
        yield StateBar()
        yield from self.compose_area()
        yield key_footer()

    def compose_area(self) -> ComposeResult:
        """The widgets between the state bar and the footer."""
        yield from ()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        self.lab.worker_failed(event.worker, event.state)

    def action_refresh(self) -> None:
        """Read the workspace and origin again now (Home's `r`, Flux's `l`), not at the watcher's next tick."""
        self.lab.refresh_state()

    def action_tab(self, step: int) -> None:
        """`]` / `[`: the next or previous sub-tab (Marker, Pitfalls, Origin...)."""
        # Imported here: Home, the first screen shown, has no tabs (Textual's widgets load on import).
        from textual.widgets import ContentSwitcher, TabbedContent, TabPane, Tabs

        tabbed = self.query(TabbedContent)
        if not tabbed:
            return
        content = tabbed.first()
        switcher = content.query_children(ContentSwitcher).first()
        panes = [pane.id for pane in switcher.query_children(TabPane) if pane.id]
        if not panes:
            return
        index = panes.index(content.active) if content.active in panes else 0
        target = panes[(index + step) % len(panes)]
        content.active = target
        # Focus follows: TabbedContent shows the pane of the focused widget, so focus left in the old
        # pane would switch straight back.
        pane = content.get_pane(target)
        focusable = [w for w in pane.query("*") if w.focusable]
        if focusable:
            focusable[0].focus()
        else:
            content.query_one(Tabs).focus()

    def action_page(self, step: int) -> None:
        """PageUp/PageDown scroll the focused pane, or the visible one when focus is on tabs or a button."""
        target = self._scroll_target()
        if target is None:
            return
        if step > 0:
            target.scroll_page_down()
        else:
            target.scroll_page_up()

    def _scroll_target(self) -> Widget | None:
        node = self.focused
        while isinstance(node, Widget) and node is not self:
            if isinstance(node, ScrollableContainer | DataTable) and node.allow_vertical_scroll:
                return node
            node = node.parent  # type: ignore[assignment]
        for widget in self.query(ScrollableContainer):
            if widget.region.area > 0 and widget.allow_vertical_scroll:
                return widget
        return None
