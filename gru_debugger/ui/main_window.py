"""The debugger window: dock panels around the controller, menus, status bar."""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from ..core.control.controller import Controller
from ..core.model.phases import phase_fact
from ..core.model.engine import ModelState
from ..core.model.phases import Step
from ..core.analysis.snapshot import Snapshot
from .editors.cell_editor import CellEditor
from .editors.debug_actions import DebugActions
from .editors.edit_support import ExplainToggle, link_explanations
from .views.console import add_console
from .views.diagram import DiagramView
from .views.equation_view import EquationView
from .editors.hyper_panel import HyperPanel
from .editors.undo_bridge import UndoBridge
from .panels.baseline import install_baseline
from .panels.panel_ahead import PanelAhead
from .panels.step_delta import install_step_delta
from .panels.tensor_panel import TensorPanel
from .panels.update_header import UpdateHeader
from .session.actions import follow_history_note
from .session.document import SessionDocument
from .weights import WeightsActions
from .registry import EDIT, LEFT, MAIN, PANELS, SIDE, TOP, PanelSpec, diagram_targets, main_tab_keys
from .poll_clock import PollClock
from .views.status import StatusLine
from .views.timeline import TimelineView
from .window_layout import NETWORK_WIDTH, DockArranger
from .deferred_docks import DEFERRED, DeferredDocks
from .edit_follow import edited_panel
from .theme_menu import add_theme_menu

NETWORK_MAX_WIDTH = 320  # the Network drawing is laid out for about 240 px; more width only adds margins
from .widgets.subscribe import subscribe
from .widgets.view_state import ViewState
from ..core.model.phases import PHASE_FACTS

SETTINGS_GEOMETRY = "window/geometry"
SETTINGS_STATE = "window/state"
SETTINGS_ARRANGED = "window/arranged"  # the saved layout is one the window made (not the user's own)
LAYOUT_VERSION = 1
DEFAULT_SIZE = (1600, 1000)


class MainWindow(QtWidgets.QMainWindow):
    def __init__(self, controller: Controller, settings: QtCore.QSettings | None = None,
                 parent: QtWidgets.QWidget | None = None, defer_hidden: bool = False, status_line: bool = True):
        """``defer_hidden``: the tabs behind the front ones are built after the first paint
        (the program's start-up; see deferred_docks.py). ``status_line``: False leaves out the
        status line (messages then go to a plain status bar); the window's clock polls either way."""
        super().__init__(parent)
        self.setObjectName("gru-debugger-main")
        self.controller = controller
        self.settings = settings
        self.clock = PollClock(controller, self)  # lets the worker start, and hears when it is done
        self.view_state = ViewState(self)
        self.debug = DebugActions(controller, self)
        self.debug.error.connect(self.show_error)
        self.undo = UndoBridge(controller, self)
        self.undo.error.connect(self.show_error)
        self.cell_editor = CellEditor(controller, self)
        self.cell_editor.message.connect(self.show_error)
        self.setDockNestingEnabled(True)
        self.setDockOptions(self.dockOptions() | QtWidgets.QMainWindow.DockOption.AllowTabbedDocks)
        self.docks: dict[str, QtWidgets.QDockWidget] = {}
        self.panels: dict[str, TensorPanel] = {}
        self._prebuild_started = False
        self.deferred = DeferredDocks(self) if defer_hidden else None
        self._build_docks()
        self._build_menus()
        self.status: StatusLine | None = None
        if status_line:
            self.status = StatusLine(controller, self)
            self.setStatusBar(self.status)
            self.clock.busy_changed.connect(self.status.show_busy)
            self.clock.precision_known.connect(self.status.show_precision)
            self.status.show_busy(self.clock.busy)
        for panel in self.panels.values():
            panel.hover.connect(self._show_hover)
        self._build_baseline()
        toggles = self.findChildren(ExplainToggle)
        link_explanations(toggles, settings)  # "Show explanations": one switch for all
        if self.deferred is not None and toggles:
            self.deferred.explain = toggles[0]  # the editors built later join in
        subscribe(controller.changed, self, self._on_changed)
        self.panel_ahead = PanelAhead(controller, self.panels, lambda: self.view_state.follow, self)
        subscribe(controller.changed, self.panel_ahead, self.panel_ahead.on_changed)
        self.resize(*DEFAULT_SIZE)
        self.arranger = DockArranger(self, self.docks, self._main_group, self._edits, LAYOUT_VERSION, self.console)
        self.restored_geometry = False
        self.restore_layout()

    # ------------------------------------------------------------ building
    def _dock(self, key: str, title: str, widget: QtWidgets.QWidget,
              area: QtCore.Qt.DockWidgetArea) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock-{key}")
        dock.setWidget(widget)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    def _build_docks(self) -> None:
        """One dock per entry of the panel registry, placed by its area."""
        area = QtCore.Qt.DockWidgetArea
        cell = self.controller.config.cell
        groups: dict[str, list[QtWidgets.QDockWidget]] = {MAIN: [], EDIT: []}
        for spec in PANELS:
            later = self.deferred is not None and spec.key in DEFERRED
            if later:
                widget = self.deferred.stand_in()
            else:
                widget = self._make_tensor_panel(spec, cell) if spec.tensor else getattr(self, spec.make)()
            qt_area = {TOP: area.TopDockWidgetArea, LEFT: area.LeftDockWidgetArea}.get(spec.area,
                                                                                       area.RightDockWidgetArea)
            dock = self._dock(spec.key, spec.title_for(cell), widget, qt_area)
            if later:
                self.deferred.add(spec.key, dock, getattr(self, spec.make))
            if spec.tensor:  # a tab brought to the front catches up (and builds its plots the first time)
                dock.visibilityChanged.connect(widget.on_dock_visibility)
            if spec.area == TOP:
                dock.setTitleBarWidget(QtWidgets.QWidget(dock))  # a strip, not a titled panel
            if spec.area == SIDE:  # beside the tab group (splitting a tabbed dock would pull it out)
                self.addDockWidget(area.RightDockWidgetArea, dock, QtCore.Qt.Orientation.Horizontal)
                right = dock
            if spec.area in groups:
                groups[spec.area].append(dock)
        first, *rest = groups[MAIN]
        for dock in rest:
            self.tabifyDockWidget(first, dock)
        edits = groups[EDIT]
        self.splitDockWidget(right, edits[0], QtCore.Qt.Orientation.Vertical)
        for dock in edits[1:]:
            self.tabifyDockWidget(edits[0], dock)
        edits[0].raise_()
        self._main_group, self._edits = groups[MAIN], edits
        self.setCorner(QtCore.Qt.Corner.BottomLeftCorner, area.LeftDockWidgetArea)  # compact: the Network's full height
        self.resizeDocks([self.docks["diagram"], first, right], [NETWORK_WIDTH, 960, 400],
                         QtCore.Qt.Orientation.Horizontal)
        self.resizeDocks([right, edits[0]], [560, 340], QtCore.Qt.Orientation.Vertical)  # the Equation gets the height
        first.raise_()

    PREBUILD_DELAY_MS = 150  # after the window first shows (it has painted by then)

    def _prebuild_panels(self) -> None:
        """A panel builds its plots when first shown, so start-up pays only for the front one;
        the others are built here, one per pass of the event loop, soon after the window showed."""
        for panel in self.panels.values():
            if not panel.built:
                self._prebuild(panel)
                QtCore.QTimer.singleShot(0, self, self._prebuild_panels)
                return

    def _key_of(self, panel: TensorPanel) -> str | None:
        return next((k for k, p in self.panels.items() if p is panel), None)

    def prebuild_now(self) -> None:
        """What the idle pre-build does, all at once (the benchmark, before it times clicks)."""
        for panel in self.panels.values():
            if not panel.built:
                self._prebuild(panel)

    def _prebuild(self, panel: TensorPanel) -> None:
        """Build a hidden panel's plots and, for a panel that stepping brings to the front, paint it
        once, off screen, at the size of the panel in front: its layout and its axes' drawings are
        then ready for the click that brings it up."""
        panel.build()
        from ..core.model.phases import PHASE_FACTS
        followed = {facts.panel for facts in PHASE_FACTS.values()}  # what a Step can bring to the front
        front = next((p for p in self.panels.values() if p.is_showing()), None)
        if front is None or panel.is_showing() or panel.isWindow() or self._key_of(panel) not in followed:
            return  # (the others, e.g. Compare cells, may be costly to fill: they wait to be asked for)
        panel.resize(front.size())
        panel.refresh()
        panel.grab()

    def panels_built(self) -> bool:
        """Every tensor panel has its plots (the idle pre-build is done)."""
        return all(panel.built for panel in self.panels.values())

    def _make_tensor_panel(self, spec: PanelSpec, cell: str) -> TensorPanel:
        header = UpdateHeader(self.view_state) if spec.header == "update" else None
        panel = TensorPanel(spec.title_for(cell), list(spec.specs(cell)), self.controller, self.view_state, self,
                            intro=spec.intro_for(cell), header=header, caption=spec.caption,
                            specs_for=spec.specs, intro_for=spec.intro_for, notice=spec.notice)
        panel.cell_edit_requested.connect(self.cell_editor.request)
        panel.context_menu_requested.connect(self._heatmap_menu)
        self.panels[spec.key] = panel
        return panel

    # Factories of the registry's non-tensor panels (PanelSpec.make).
    def make_timeline(self) -> QtWidgets.QWidget:
        self.timeline = TimelineView(self.controller, self,
                                     selection=lambda: (self.view_state.batch_row, self.view_state.unit))
        self.timeline.message.connect(self.show_error)
        return self.timeline

    def make_diagram(self) -> QtWidgets.QWidget:
        self.diagram = DiagramView(self.controller, self, targets=diagram_targets())
        # A fixed column: a wider window gives its extra width to the tensor panels, not the drawing.
        self.diagram.setMaximumWidth(NETWORK_MAX_WIDTH)
        self.diagram.block_clicked.connect(self.show_panel)
        return self.diagram

    def make_equations(self) -> QtWidgets.QWidget:
        self.equations = EquationView(self.controller, self.view_state, self)
        return self.equations

    def make_tokenizer(self) -> QtWidgets.QWidget:
        from .views.tokenizer_view import TokenizerView
        self.tokenizer = TokenizerView(self.controller, self)
        return self.tokenizer

    def make_training(self) -> QtWidgets.QWidget:
        from .editors.training_panel import TrainingPanel
        self.training = TrainingPanel(self.controller, self)
        self.training.message.connect(self.show_error)
        return self.training

    def make_hyper(self) -> QtWidgets.QWidget:
        return HyperPanel(self.controller, self)          # scrolls by itself

    def make_inputs(self) -> QtWidgets.QWidget:
        from .editors.inputs_panel import InputsPanel
        return self._scrolling(InputsPanel(self.controller, self))

    def make_init(self) -> QtWidgets.QWidget:
        from .editors.init_panel import InitPanel
        return InitPanel(self.controller, self)           # scrolls by itself

    def editor(self, key: str) -> QtWidgets.QWidget:
        """The editing panel in dock ``key`` (inside its scroll area)."""
        if self.deferred is not None:
            self.deferred.build(key)
        widget = self.docks[key].widget()
        return widget.widget() if isinstance(widget, QtWidgets.QScrollArea) else widget

    def _scrolling(self, panel: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
        """Editing panels scroll rather than set the window's minimum height."""
        area = QtWidgets.QScrollArea(self)
        area.setObjectName(f"scroll-{panel.objectName()}")
        area.setWidgetResizable(True)
        area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        area.setWidget(panel)
        return area

    def make_history(self) -> QtWidgets.QWidget:
        history = QtWidgets.QUndoView(self.undo.stack, self)
        history.setEmptyLabel("<start>")
        history.setObjectName("undo-history")
        follow_history_note(history, self.controller)  # "(N older steps dropped to save memory)"
        return history

    def _heatmap_menu(self, panel: TensorPanel, name: str, pos: QtCore.QPoint) -> None:
        """A panel asked for the right-click menu of one of its heatmaps: build and show it."""
        from .export_view import heatmap_menu
        menu = heatmap_menu(panel, panel.heatmaps[name])
        menu.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(pos)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QtGui.QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.export_view_action = QtGui.QAction("Export &View…", self)
        self.export_view_action.setToolTip("Save the panel on top (or the whole window) as PNG or SVG")
        self.export_view_action.triggered.connect(self._export_view_dialog)
        file_menu.insertAction(quit_action, self.export_view_action)
        file_menu.insertSeparator(quit_action)
        self.file_menu = file_menu
        # Sessions (Open…, Open Recent, Save, Save As…, title, close prompt, autosave) and weights files.
        self.session = SessionDocument(self)
        self.weights_actions = WeightsActions(self, self.controller)
        first = file_menu.actions()[0]
        self.session.add_to_menu(file_menu, before=first)
        self.weights_actions.add_to_menu(file_menu, before=self.export_view_action)
        self.edit_menu = bar.addMenu("&Edit")
        undo = self.undo.stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QtGui.QKeySequence.StandardKey.Undo)
        redo = self.undo.stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QtGui.QKeySequence("Ctrl+Shift+Z"), QtGui.QKeySequence("Ctrl+Y")])
        for action in (undo, redo):
            action.setShortcutContext(QtCore.Qt.ShortcutContext.ApplicationShortcut)
            self.edit_menu.addAction(action)
        self.undo_action, self.redo_action = undo, redo
        self.edit_menu.addSeparator()
        hint = self.edit_menu.addAction("Edit a Weight: double-click it in any parameter heatmap")
        hint.setEnabled(False)
        self.edit_hint = hint
        debug_menu = bar.addMenu("&Debug")
        toolbar = self.addToolBar("Debug")
        toolbar.setObjectName("toolbar-debug")
        toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for name in ("continue", "step", "step_into", "step_out", "step_back"):
            debug_menu.addAction(self.debug[name])
            toolbar.addAction(self.debug[name])
        debug_menu.addSeparator()
        toolbar.addSeparator()
        for name in ("run_to_end", "next_iteration", "reset"):
            debug_menu.addAction(self.debug[name])
            toolbar.addAction(self.debug[name])
        debug_menu.addSeparator()
        debug_menu.addAction(self.debug["breakpoint"])
        self.toolbar = toolbar
        view_menu = bar.addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        follow = view_menu.addAction("&Follow the Cursor")
        follow.setCheckable(True)
        follow.setChecked(True)
        follow.setToolTip("Show the panel of the current phase as you step")
        follow.toggled.connect(self._set_follow)
        reset_layout = view_menu.addAction("&Reset Layout")
        reset_layout.triggered.connect(self.reset_layout)
        add_theme_menu(self, view_menu)  # View → Theme: System, Light, Dark (theme_menu.py)
        self.view_menu = view_menu
        self._build_examples_menu()
        help_menu = bar.addMenu("&Help")
        keys = help_menu.addAction("&Keyboard Shortcuts")
        keys.triggered.connect(self._show_shortcuts)
        add_console(self, self.view_menu)  # View → Console (views/console.py), built when first shown

    def _build_baseline(self) -> None:
        """Edit → Pin as Baseline, Clear Baseline, Show Difference from Baseline (also on the toolbar)."""
        install_baseline(self)
        first = self.edit_hint
        for action in (self.pin_baseline_action, self.clear_baseline_action, self.show_diff_action):
            self.edit_menu.insertAction(first, action)
        self.edit_menu.insertSeparator(first)
        self.toolbar.addSeparator()
        for action in (self.pin_baseline_action, self.clear_baseline_action, self.show_diff_action):
            self.toolbar.addAction(action)
        step_delta = install_step_delta(self, self.baseline)   # View → Δ since Last Step (Ctrl+D)
        self.view_menu.addAction(step_delta)
        self.toolbar.addAction(step_delta)

    def _build_examples_menu(self) -> None:
        """Examples: the configs that ship with the program; choosing one switches to it (one undo step)."""
        from ..core.storage.examples import MissingResources, list_examples, load_example
        menu = self.menuBar().addMenu("E&xamples")
        menu.setObjectName("examples-menu")
        menu.setToolTipsVisible(True)
        self.examples_menu = menu
        try:
            examples = list_examples()
        except MissingResources as exc:
            menu.addAction(str(exc)).setEnabled(False)
            return
        for example in examples:
            action = menu.addAction(example.title)
            action.setToolTip(example.description)
            action.setStatusTip(example.description)

            def choose(_checked: bool = False, example=example) -> None:
                try:
                    self.controller.use_config(load_example(example), f"Example: {example.title}")
                except (ValueError, OSError) as exc:  # a broken file or a refused config: nothing changed
                    self.show_error(f"Could not open the example \"{example.title}\": {exc}")
            action.triggered.connect(choose)

    # ------------------------------------------------------------ behaviour
    def _set_follow(self, on: bool) -> None:
        self.view_state.follow = on

    def phase_panel(self) -> str:
        """The key of the panel that shows the current phase (the first tensor panel at the start)."""
        step = self.controller.snapshot().step
        return PHASE_FACTS[step.phase].panel if step is not None else main_tab_keys()[0]

    def show_panel(self, key: str) -> None:
        dock = self.docks.get(key)
        if dock is not None and (dock.isHidden() or dock.visibleRegion().isEmpty()):
            dock.show()
            dock.raise_()

    def front_panels(self) -> list[str]:
        """The keys of the big views on screen (in front of their tab group)."""
        return [key for key in main_tab_keys()
                if not self.docks[key].isHidden() and not self.docks[key].visibleRegion().isEmpty()]

    def _on_changed(self, snapshot: Snapshot) -> None:
        self.view_state.clamp(snapshot.config.batch_size, snapshot.config.hidden_size)
        before = getattr(self, "_followed", None)
        self._followed = (snapshot.state, snapshot.step)  # (not the snapshot: it would keep its trace alive)
        if self.view_state.follow:
            self._follow(before, snapshot)
        if "model" in snapshot.reasons:  # the cell panel's dock title follows the cell
            for spec in PANELS:
                title = spec.title_for(snapshot.config.cell)
                if self.docks[spec.key].windowTitle() != title:
                    self.docks[spec.key].setWindowTitle(title)

    def _follow(self, before: "tuple[ModelState, Step | None] | None", snapshot: Snapshot) -> None:
        """Follow the Cursor: a move brings up the panel of the new phase; an edit (the model changed
        within the iteration) a panel that shows what it changed (see edit_follow.py)."""
        step = snapshot.step
        phase = PHASE_FACTS[step.phase].panel if step is not None else None
        if "model" in snapshot.reasons and before is not None and before[0].iteration == snapshot.state.iteration:
            front = self.front_panels()
            focus = QtWidgets.QApplication.focusWidget()
            if focus is not None and any(self.docks[k].isAncestorOf(focus) for k in front):
                return  # edited from a panel in front (its fix button, a heatmap): that panel shows the effect
            key = edited_panel(before[0], snapshot.state, front, phase)
            if key is not None:
                self.show_panel(key)
                return
            if before[1] == step:  # the cursor stayed: the panels stay as the user left them
                return
        if phase is not None and "cursor" in snapshot.reasons:
            self.show_panel(phase)

    def _export_view_dialog(self, _checked: bool = False) -> None:
        """File → Export View…: ask for a file and save the raised panel (or the whole window)."""
        from .export_view import export_view_dialog
        export_view_dialog(self)

    def export_view(self, path: str, whole_window: bool = False) -> bool:
        """Save the raised panel (or the whole window) to ``path`` (.png or .svg); errors go to the status bar."""
        from .export_view import save_view
        return save_view(self, path, whole_window)

    def show_error(self, message: str) -> None:
        self.statusBar().showMessage(message, 8000)

    def _show_hover(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, action) for every action of the window that has a shortcut, in menu order."""
        rows: list[tuple[str, str]] = []
        seen: set[int] = set()
        menus = [a.menu() for a in self.menuBar().actions() if a.menu() is not None]
        actions = [a for m in menus for a in m.actions()] + list(self.findChildren(QtGui.QAction))
        for action in actions:
            if id(action) in seen or not action.shortcuts():
                continue
            seen.add(id(action))
            keys = " or ".join(k.toString(QtGui.QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
            text = action.text().replace("&", "")
            if action is self.undo_action:
                text = "Undo"
            elif action is self.redo_action:
                text = "Redo"
            rows.append((keys, text))
        return rows

    def _show_shortcuts(self) -> None:
        lines = [f"<tr><td><b>{keys}</b></td><td>{text}</td></tr>" for keys, text in self.shortcut_rows()]
        QtWidgets.QMessageBox.information(self, "Keyboard shortcuts", f"<table>{''.join(lines)}</table>"
                                          "<p>Click a phase in the timeline to run to it; right-click it to toggle"
                                          " a breakpoint.</p>")

    # ------------------------------------------------------------ layout
    def restore_layout(self) -> None:
        if self.settings is None:
            return
        geometry = self.settings.value(SETTINGS_GEOMETRY)
        state = self.settings.value(SETTINGS_STATE)
        # The docks first: restored into a hidden maximised window, Qt would keep the state aside
        # until the window has its size and meanwhile lose track of docks the window moves.
        if isinstance(state, QtCore.QByteArray):  # a layout saved before the window arranged itself is the user's
            self.arranger.restore(state, self.settings.value(SETTINGS_ARRANGED, False, type=bool))
        if isinstance(geometry, QtCore.QByteArray):
            self.restored_geometry = self.restoreGeometry(geometry)

    def save_layout(self) -> None:
        if self.settings is not None:
            self.settings.setValue(SETTINGS_GEOMETRY, self.saveGeometry())
            self.settings.setValue(SETTINGS_STATE, self.saveState(LAYOUT_VERSION))
            self.settings.setValue(SETTINGS_ARRANGED, self.arranger.auto)
            self.settings.sync()

    def reset_layout(self) -> None:
        """Every dock shown and in its place for the window's width (see window_layout)."""
        self.arranger.reset()

    @property
    def compact(self) -> bool:
        """The docks are in the compact arrangement of a narrow window (see window_layout)."""
        return self.arranger.compact

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        arranger = getattr(self, "arranger", None)
        if arranger is not None:
            arranger.window_resized()

    def hide_stray_tab_bars(self) -> None:
        """Work around a Qt quirk: building the tab groups and restoring a layout leave old tab
        bars on screen, drawn over the panels or exactly over the window's own bars. The
        window's own bars list the docks of one tab group, at the edge of that group's front
        dock; of two bars alike, the one the layout places is the window's own."""
        by_title = {dock.windowTitle(): dock for dock in self.findChildren(QtWidgets.QDockWidget)}
        bars = [b for b in self.findChildren(QtWidgets.QTabBar) if b.parent() is self and b.isVisible()]
        for bar in bars:
            if not self._owns_tab_bar(bar, by_title):
                bar.hide()
        bars = [b for b in bars if b.isVisible()]
        tabs = [tuple(b.tabText(i) for i in range(b.count())) for b in bars]
        if len(set(tabs)) < len(tabs):
            self._hide_unplaced_tab_bars(bars)

    def _owns_tab_bar(self, bar: QtWidgets.QTabBar, by_title: dict[str, QtWidgets.QDockWidget]) -> bool:
        front = by_title.get(bar.tabText(bar.currentIndex()))
        if front is None or front.isHidden():
            return False
        group = {front.windowTitle()} | {d.windowTitle() for d in self.tabifiedDockWidgets(front) if not d.isHidden()}
        if {bar.tabText(i) for i in range(bar.count())} != group:
            return False
        dock, tabs = front.geometry(), bar.geometry()
        return abs(tabs.left() - dock.left()) <= 2 and min(abs(tabs.top() - dock.bottom()),
                                                            abs(dock.top() - tabs.bottom())) <= 8

    def _hide_unplaced_tab_bars(self, bars: list[QtWidgets.QTabBar]) -> None:
        """Move the bars out of sight and have the layout place its own again (shifted by a pixel
        and back, so nothing changes size); the ones left out of sight are leftovers."""
        away = QtCore.QRect(-10000, -10000, 10, 10)
        kept = {bar: bar.geometry() for bar in bars}
        for bar in bars:
            bar.setGeometry(away)
        layout = self.layout()
        rect = layout.geometry()
        layout.setGeometry(rect.translated(0, 1))
        layout.setGeometry(rect)
        placed = [bar for bar in bars if bar.geometry() != away]
        for bar in bars:
            if not placed:  # the layout placed none: leave them as they were
                bar.setGeometry(kept[bar])
            elif bar not in placed:
                bar.hide()

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self.arranger.window_resized()  # the arrangement for the size it shows at
        QtCore.QTimer.singleShot(0, self.hide_stray_tab_bars)

    def show_fitted(self) -> None:
        """Show the window at its size, or maximised where the screen is smaller than that (a laptop):
        it then arranges its docks for the room it gets. A size the user left it at is kept."""
        available = self.screen().availableGeometry()
        if not self.restored_geometry and (self.width() > available.width() or self.height() > available.height()):
            self.resize(self.size().boundedTo(available.size()))  # also when it is no longer maximised
            self.showMaximized()
        else:
            self.show()

    def start_prebuild(self) -> None:
        """Build the hidden panels' plots in idle time once the window has shown (the interactive
        program; tests and screenshots build a panel when it is shown, for the same pictures each run)."""
        if not self._prebuild_started:
            self._prebuild_started = True
            QtCore.QTimer.singleShot(self.PREBUILD_DELAY_MS, self, self._prebuild_panels)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 (Qt name)
        if not self.session.may_close():  # unsaved changes: Save / Don't Save / Cancel
            event.ignore()
            return
        self.save_layout()
        super().closeEvent(event)

    def phase_title(self) -> str:
        step = self.controller.snapshot().step
        return "Start" if step is None else phase_fact(step.phase, "title", self.controller.config.cell)
