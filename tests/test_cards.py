"""Animated cards rendered with manim: registry and plug-ins, exact frames, animation, theme colors, alpha, cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import av
import numpy as np
import pytest
from pydantic import BaseModel

from conftest import needs, slow
from reelforge.cards import CardError, CardPluginWarning, card_cache_path, card_names, get_spec, registry, render_card
from reelforge.cards import render as card_render
from reelforge.cards.text_fit import fit_text, width_em
from reelforge.cards.timing import quiz_plan
from reelforge.errors import DocumentError
from reelforge.model.cards import EndCard, ListItemCard, QuizCard, QuoteCard, StatCard, TitleCard
from reelforge.model.theme import Theme
from reelforge.workspace import Workspace

THEME = Theme(background="#14213d", primary="#ff3366", text="#e8f4ff", font="sans")
WIDTH, HEIGHT, FPS = 540, 960, 15
BUILTINS = ["title", "list_item", "quiz", "stat", "quote", "end"]
CARDS = {
    "title": TitleCard(card="title", title="Five facts about octopuses", subtitle="Number three will surprise you"),
    "list_item": ListItemCard(card="list_item", number=3, title="They have three hearts",
                              body="Two pump blood to the gills, one to the rest of the body."),
    "quiz": QuizCard(card="quiz", question="How many hearts does an octopus have?",
                     choices=["One", "Two", "Three", "Eight"], answer=2, countdown=2),
    "stat": StatCard(card="stat", value=12345.6, decimals=1, prefix="$", suffix="k", label="raised for research"),
    "quote": QuoteCard(card="quote", quote="The sea, once it casts its spell, holds one in its net of wonder forever.",
                       author="Jacques Cousteau"),
    "end": EndCard(card="end", title="Thanks for watching", call_to_action="Follow for more"),
}
SECONDS = {"quiz": 4}  # the quiz needs time for its countdown; the others 2 s
LONG_TITLE = ("The surprisingly long and winding history of the humble paperclip, a tiny bent wire that "
              "organised offices everywhere (antidisestablishmentarianism)")
FONT_FAMILIES = ["sans", "serif", "display"]


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgba") for frame in container.decode(video=0)]


def stream_info(path: Path) -> tuple[str, str, int, int]:
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        return context.name, context.pix_fmt, context.width, context.height


def near(frame: np.ndarray, color: str, tolerance: int = 12) -> np.ndarray:
    """Opaque pixels within `tolerance` of `color` on every channel."""
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
    return (np.abs(frame[..., :3].astype(int) - rgb).max(axis=-1) <= tolerance) & (frame[..., 3] > 250)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """Every built-in card (and a few variants) rendered once, in parallel, into a private cache."""
    cache = tmp_path_factory.mktemp("card-cache")
    jobs = {name: dict(card=CARDS[name], frames=FPS * SECONDS.get(name, 2)) for name in BUILTINS}
    jobs["title-transparent"] = dict(card=CARDS["title"], frames=FPS * 2, transparent=True)
    jobs["long-title"] = dict(card=TitleCard(card="title", title=LONG_TITLE), frames=FPS * 2)
    jobs["long-title-wide"] = dict(card=TitleCard(card="title", title=LONG_TITLE), frames=FPS, width=HEIGHT,
                                   height=WIDTH)
    for family in FONT_FAMILIES:
        jobs[f"font-{family}"] = dict(card=CARDS["end"], frames=FPS, theme=THEME.model_copy(update={"font": family}))
    workspace = Workspace(cache)

    def run(job: dict) -> Path:
        return render_card(job["card"], job.get("theme", THEME), workspace=workspace, width=job.get("width", WIDTH),
                           height=job.get("height", HEIGHT), fps=FPS, frames=job["frames"],
                           transparent=job.get("transparent", False))

    with ThreadPoolExecutor(max_workers=3) as pool:
        paths = dict(zip(jobs, pool.map(run, jobs.values())))
    return paths


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def workspace(cache) -> Workspace:
    return Workspace(cache)


# -- registry -----------------------------------------------------------------------------------------


def test_registry_lists_the_six_builtins_with_the_document_models():
    assert card_names()[:6] == BUILTINS
    models = {"title": TitleCard, "list_item": ListItemCard, "quiz": QuizCard, "stat": StatCard,
              "quote": QuoteCard, "end": EndCard}
    for name, model in models.items():
        spec = get_spec(name)
        assert spec.model is model and spec.source == "builtin"


def test_unknown_card_is_a_card_error_listing_known_names(cache, workspace):
    with pytest.raises(CardError, match="unknown card 'nope'.*title, list_item, quiz, stat, quote, end"):
        get_spec("nope")

    class NopeCard(BaseModel):
        card: Literal["nope"] = "nope"

    with pytest.raises(CardError, match="known cards are title, list_item"):
        render_card(NopeCard(), THEME, workspace=workspace, width=WIDTH, height=HEIGHT, fps=FPS, frames=10)
    assert not (cache / "cards").exists()


def test_importing_cards_does_not_import_manim():
    code = "import sys, reelforge.cards; reelforge.cards.card_names(); assert 'manim' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    """A real installed distribution (dist-info with entry_points.txt) on sys.path: good, broken and invalid cards."""
    folder = tmp_path / "site"
    info = folder / "reelforge_test_cards-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: reelforge-test-cards\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent("""\
        [reelforge.cards]
        shout = reelforge_test_cards:make_spec
        boom = reelforge_test_cards:BOOM
        broken = reelforge_test_cards_missing_module:SPEC
        badmodel = reelforge_test_cards:BAD_MODEL
        title = reelforge_test_cards:TAKES_BUILTIN_NAME
        """))
    (folder / "reelforge_test_cards.py").write_text(textwrap.dedent("""\
        from typing import Literal
        from pydantic import BaseModel
        from reelforge.cards import CardSpec

        class ShoutCard(BaseModel):
            card: Literal["shout"]
            text: str

        class BoomCard(BaseModel):
            card: Literal["boom"]

        class NoName(BaseModel):
            text: str

        class TitleAgain(BaseModel):
            card: Literal["title"]

        def make_spec():
            return CardSpec("shout", ShoutCard, "reelforge_test_cards_scenes:ShoutScene", version="1")

        BOOM = CardSpec("boom", BoomCard, "reelforge_test_cards_scenes:BoomScene")
        BAD_MODEL = CardSpec("badmodel", NoName, "reelforge_test_cards_scenes:ShoutScene")
        TAKES_BUILTIN_NAME = CardSpec("title", TitleAgain, "reelforge_test_cards_scenes:ShoutScene")
        """))
    (folder / "reelforge_test_cards_scenes.py").write_text(textwrap.dedent("""\
        from reelforge.cards.scene import Appear, CardScene

        class ShoutScene(CardScene):
            def construct(self):
                text = self.text(self.card.text.upper(), em=0.15 * self.short, color=self.primary)
                self.play_frames(Appear(text, scale=0.5), frames=4)
                self.hold_to_end()

        class BoomScene(CardScene):
            def construct(self):
                raise RuntimeError("kaboom: the plug-in scene failed")
        """))
    monkeypatch.syspath_prepend(str(folder))
    registry.refresh()
    yield folder
    registry.refresh()


def test_plugins_are_discovered_and_bad_ones_skipped_with_a_warning(plugin_dir):
    with pytest.warns(CardPluginWarning) as caught:
        names = card_names()
    assert names[:6] == BUILTINS and "shout" in names and "boom" in names
    assert "broken" not in names and "badmodel" not in names
    messages = "\n".join(str(w.message) for w in caught)
    assert "'broken'" in messages and "ModuleNotFoundError" in messages
    assert "'badmodel'" in messages and "Literal['badmodel']" in messages
    assert "'title'" in messages and "already registered" in messages
    assert get_spec("title").source == "builtin"
    assert get_spec("shout").source == "reelforge-test-cards 1.0"


@slow("manim")
def test_a_plugin_card_renders_through_the_worker(plugin_dir, workspace):
    with pytest.warns(CardPluginWarning):
        card_names()
    shout = get_spec("shout").model(card="shout", text="hey")
    path = render_card(shout, THEME, workspace=workspace, width=320, height=320, fps=10, frames=12)
    frames = frames_of(path)
    assert len(frames) == 12 and frames[0].shape == (320, 320, 4)
    assert near(frames[-1], THEME.primary).sum() > 200


@slow("manim")
def test_a_failing_scene_is_a_card_error_with_manims_last_lines(plugin_dir, cache, workspace):
    with pytest.warns(CardPluginWarning):
        card_names()
    boom = get_spec("boom").model(card="boom")
    with pytest.raises(CardError, match="boom card failed to render") as error:
        render_card(boom, THEME, workspace=workspace, width=320, height=320, fps=10, frames=5)
    assert error.value.kind == "boom" and "kaboom: the plug-in scene failed" in str(error.value)
    assert not list((cache / "cards").glob("*"))  # nothing half-written left in the cache


# -- rendering ----------------------------------------------------------------------------------------


@slow("manim")
@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_renders_exact_frames_and_size(rendered, name):
    path = rendered[name]
    assert path.parent.name == "cards" and path.suffix == ".mov"
    assert stream_info(path) == ("qtrle", "rgb24", WIDTH, HEIGHT)
    frames = frames_of(path)
    assert len(frames) == FPS * SECONDS.get(name, 2)
    assert all(frame.shape == (HEIGHT, WIDTH, 4) for frame in frames)


@slow("manim")
@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_animates_then_shows_theme_colors(rendered, name):
    frames = frames_of(rendered[name])
    first, last = frames[0].astype(int), frames[-1].astype(int)
    assert np.abs(first - last).mean() > 1.0, "nothing moved"
    changed = sum(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))
    assert changed >= 5, f"only {changed} frame changes"
    assert near(frames[-1], THEME.text).sum() > 300, "no text in the theme's text color"
    assert near(frames[-1], THEME.primary).sum() > 100, "nothing in the theme's primary color"
    corner = frames[-1][HEIGHT // 2, 2, :3].astype(int)
    background = np.array([0x14, 0x21, 0x3d])
    assert np.abs(corner - background).max() < 40, f"background {corner} is not the theme's"


@slow("manim")
def test_title_holds_still_after_its_entrance(rendered):
    frames = frames_of(rendered["title"])
    assert all(np.array_equal(frames[-1], frame) for frame in frames[-12:])
    assert not np.array_equal(frames[0], frames[-1])


@slow("manim")
def test_quiz_highlights_the_answer_and_dims_the_others(rendered):
    frames = frames_of(rendered["quiz"])
    plan = quiz_plan(len(frames), FPS, 4, 2)
    before, after = frames[plan.reveal - 1], frames[-1]
    assert near(before, THEME.primary).sum() > 50  # the letters (and countdown) are in the primary color
    assert near(after, THEME.primary).sum() > near(before, THEME.primary).sum() + 5000  # the answer's box
    # the answer's text turns dark on its box, the other choices dim: fewer pixels in the text color
    assert near(after, THEME.text).sum() < near(before, THEME.text).sum() - 500


@slow("manim")
def test_transparent_card_has_real_straight_alpha(rendered):
    path = rendered["title-transparent"]
    assert stream_info(path) == ("qtrle", "argb", WIDTH, HEIGHT)
    frames = frames_of(path)
    assert len(frames) == FPS * 2
    alpha = frames[-1][..., 3]
    assert (alpha == 0).sum() > 0.3 * alpha.size, "no fully transparent pixels"
    assert (alpha == 255).sum() > 500, "no opaque pixels"
    assert (frames[0][..., 3] == 0).all(), "the card should start fully transparent"
    panel = (alpha > 180) & (alpha < 230)  # the translucent backdrop: straight alpha keeps its color
    assert panel.sum() > 1000
    colors = frames[-1][panel][:, :3].astype(int)
    assert np.abs(np.median(colors, axis=0) - [0x14, 0x21, 0x3d]).max() <= 3


@slow("manim")
@pytest.mark.parametrize("variant", ["long-title", "long-title-wide"])
def test_a_long_title_stays_inside_the_frame(rendered, variant):
    frame = frames_of(rendered[variant])[-1]
    text = near(frame, THEME.text, tolerance=60) | (frame[..., :3].min(axis=-1) > 140)
    height, width = text.shape
    rows, cols = np.nonzero(text)
    assert rows.size > 2000
    border = 4
    assert not text[:border].any() and not text[-border:].any(), "text touches the top or bottom"
    assert not text[:, :border].any() and not text[:, -border:].any(), "text touches the sides"
    assert rows.max() - rows.min() > 0.15 * height, "a 150-character title should wrap onto several lines"
    assert cols.min() > 0.03 * width and cols.max() < 0.97 * width


@slow("manim")
@pytest.mark.parametrize("family", FONT_FAMILIES)
def test_each_theme_font_renders(rendered, family):
    frame = frames_of(rendered[f"font-{family}"])[-1]
    assert near(frame, THEME.text).sum() > 300


@slow("manim")
def test_fonts_differ_by_theme(rendered):
    last = [frames_of(rendered[f"font-{family}"])[-1] for family in FONT_FAMILIES]
    masks = [near(frame, THEME.text) for frame in last]
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[0], masks[2])


@slow("manim")
def test_second_render_is_a_cache_hit(rendered, monkeypatch):
    path = rendered["title"]
    workspace = Workspace(path.parent.parent)
    mtime = path.stat().st_mtime_ns

    def no_worker(*_args, **_kwargs):
        raise AssertionError("rendered again instead of using the cache")

    monkeypatch.setattr(card_render, "_run_worker", no_worker)
    again = render_card(CARDS["title"], THEME, workspace=workspace, width=WIDTH, height=HEIGHT, fps=FPS, frames=FPS * 2)
    assert again == path and path.stat().st_mtime_ns == mtime
    assert card_cache_path(CARDS["title"], THEME, workspace=workspace, width=WIDTH, height=HEIGHT, fps=FPS, frames=FPS * 2) == path
    assert not list(path.parent.glob(".*partial*")), "temporary files left behind"


@needs("manim")  # the key holds manim's version
def test_cache_key_covers_every_input(workspace):
    def key(**changes) -> Path:
        args = dict(card=CARDS["title"], theme=THEME, width=WIDTH, height=HEIGHT, fps=FPS, frames=30)
        args.update(changes)
        card, theme = args.pop("card"), args.pop("theme")
        return card_cache_path(card, theme, workspace=workspace, **args)

    base = key()
    variants = [key(frames=31), key(fps=30), key(width=544), key(transparent=True), key(background="#000000"),
                key(theme=THEME.model_copy(update={"primary": "#00ff00"})),
                key(theme=THEME.model_copy(update={"font": "serif"})),
                key(card=TitleCard(card="title", title="Another title"))]
    assert len({base, *variants}) == len(variants) + 1


def test_invalid_requests_are_card_errors(workspace):
    with pytest.raises(CardError, match="frames 0 must be at least 1"):
        render_card(CARDS["end"], THEME, workspace=workspace, width=WIDTH, height=HEIGHT, fps=FPS, frames=0)
    with pytest.raises(CardError, match="background 'red' must be a color"):
        render_card(CARDS["end"], THEME, workspace=workspace, width=WIDTH, height=HEIGHT, fps=FPS, frames=5, background="red")


@slow("manim")
def test_cancelling_stops_the_worker_and_leaves_no_file(cache, workspace):
    from reelforge.errors import RenderCancelled
    from reelforge.progress import CancelToken

    class Cancelled:
        cancelled = True

    with pytest.raises(CardError, match="render cancelled"):
        render_card(CARDS["end"], THEME, workspace=workspace, width=WIDTH, height=HEIGHT, fps=FPS, frames=30, cancel=Cancelled())
    token = CancelToken()
    token.cancel()
    with pytest.raises(RenderCancelled):  # the pipeline's own token raises its own error
        render_card(CARDS["end"], THEME, workspace=workspace, width=WIDTH, height=HEIGHT, fps=FPS, frames=30, cancel=token)
    assert not list((cache / "cards").glob("*"))


# -- timing and text fitting (no rendering) ---------------------------------------------------------------


@pytest.mark.parametrize("fps", [12, 15, 24, 30, 60])
@pytest.mark.parametrize("seconds", [2, 3, 4.5, 6, 10, 30])
@pytest.mark.parametrize("choices,countdown", [(2, 0), (3, 3), (4, 5), (4, 10)])
def test_quiz_answer_shows_at_least_a_second_before_the_end(fps, seconds, choices, countdown):
    total = int(seconds * fps)
    plan = quiz_plan(total, fps, choices, countdown)
    assert plan.reveal <= total - fps, "the answer must stay on screen for at least a second"
    assert plan.intro_end <= plan.countdown_start <= plan.reveal
    assert plan.countdown_start + sum(plan.tick_frames) == plan.reveal
    assert plan.intro_end <= round(1.3 * fps)
    assert all(tick >= fps // 2 for tick in plan.tick_frames)
    if total >= plan.intro_end + countdown * fps + fps:
        assert len(plan.tick_frames) == countdown and all(t == fps for t in plan.tick_frames)


def test_text_wraps_at_words_and_shrinks_to_fit():
    from reelforge.fonts import font_file

    font = font_file("sans", heavy=True)  # Roboto Black
    fitted = fit_text(LONG_TITLE, font, em=0.5, max_width=4.0, max_height=3.0, min_em=0.1)
    assert len(fitted.lines) > 2 and fitted.height <= 3.0
    assert all(width_em(line, font) * fitted.em <= 4.0 for line in fitted.lines)
    assert " ".join(fitted.lines).replace("  ", " ") == LONG_TITLE
    assert fit_text("Hi", font, em=0.5, max_width=4.0, max_height=3.0).em == 0.5
    unbreakable = fit_text("x" * 150, font, em=0.5, max_width=4.0, max_height=3.0, min_em=0.1)
    assert all(width_em(line, font) * unbreakable.em <= 4.0 for line in unbreakable.lines)


@pytest.fixture
def model_importing_plugin(tmp_path, monkeypatch):
    """An installed plug-in whose module imports the document model at import time (as a real card package may),
    and whose import leaves a mark, so a test can tell whether (and when) plug-in code ran."""
    folder = tmp_path / "site"
    info = folder / "reelforge_model_cards-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: reelforge-model-cards\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[reelforge.cards]\nbadge = reelforge_model_cards:SPEC\n")
    (folder / "reelforge_model_cards.py").write_text(textwrap.dedent("""\
        import os
        from typing import Literal

        import reelforge.model  # the whole document model, while the registry is being built
        from reelforge.cards import CardSpec
        from reelforge.model.base import StrictModel

        os.environ["REELFORGE_TEST_PLUGIN_IMPORTED"] = "1"

        class BadgeCard(StrictModel):
            card: Literal["badge"]
            label: str
            theme_color: reelforge.model.base.Color = "#ffcc00"

        SPEC = CardSpec("badge", BadgeCard, "reelforge_test_cards_scenes:ShoutScene", version="1")
        """))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delenv("REELFORGE_TEST_PLUGIN_IMPORTED", raising=False)
    registry.refresh()
    yield folder
    registry.refresh()


def badge_document(card: dict) -> dict:
    return {"version": "1", "name": "Badge", "scenes": [{"id": "a", "duration": 2, "visual": {"type": "card", "card": card}}]}


def test_importing_the_model_runs_no_plugin_code(model_importing_plugin):
    code = ("import os, sys; import reelforge.model, reelforge.document.loader; "
            "assert 'reelforge_model_cards' not in sys.modules, 'plug-in imported with the model'; "
            "assert 'reelforge.cards.registry' not in sys.modules; "
            "from reelforge.document.loader import validate_data; "
            f"validate_data({badge_document({'card': 'badge', 'label': 'new'})!r}); "
            "assert os.environ.get('REELFORGE_TEST_PLUGIN_IMPORTED') == '1'")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(model_importing_plugin), *sys.path])}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)


def test_a_plugin_that_imports_the_model_is_accepted_and_in_the_schema(model_importing_plugin):
    from reelforge.document.loader import validate_data
    from reelforge.document.schema import document_schema

    assert "badge" in card_names()  # loaded, not skipped as broken
    document = validate_data(badge_document({"card": "badge", "label": "new", "themeColor": "#00ff00"}))
    assert document.scenes[0].visual.card.theme_color == "#00ff00"
    with pytest.raises(DocumentError) as caught:
        validate_data(badge_document({"card": "badge", "label": 3}))
    assert str(caught.value.problems[0]).startswith("scenes[0].visual.card.label: ")
    assert "badge" in json.dumps(document_schema())


def test_what_refresh_lists_is_exactly_what_documents_accept(model_importing_plugin, monkeypatch):
    from reelforge.document.loader import validate_data
    from reelforge.document.schema import document_schema

    validate_data(badge_document({"card": "badge", "label": "new"}))
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(model_importing_plugin)])  # uninstalled ...
    for name in [name for name in sys.modules if name.startswith("reelforge_model_cards")]:
        del sys.modules[name]
    registry.refresh()  # ... and after a refresh the registry and the documents both forget it
    assert "badge" not in card_names()
    with pytest.raises(DocumentError, match="unknown card 'badge'"):
        validate_data(badge_document({"card": "badge", "label": "new"}))
    assert '"badge"' not in json.dumps(document_schema())
