"""``s2crnet demo``: the page's functions, the ``harmonize`` endpoint through
gradio_client, and the page itself driven in a real headless Chromium (Playwright),
skipped with the reason where a browser cannot be had."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from _helpers import make_mask, run_cli
from s2crnet.demo import EXAMPLE, editor_mask, harmonize_arrays

gr = pytest.importorskip("gradio", reason="Gradio (the [demo] extra) is not installed")

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """The demo on the shipped model, served on a free local port for this module."""
    from s2crnet.demo import build_demo

    port = free_port()
    demo = build_demo()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                        quiet=True)  # fmt: skip
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def read_rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def test_the_example_ships_with_the_package_unchanged():
    examples = (ROOT / "examples" / "composite.jpg", ROOT / "examples" / "mask.png")
    for shipped, example in zip(EXAMPLE, examples, strict=True):
        assert shipped.read_bytes() == example.read_bytes()


def test_mask_from_upload_or_brush_strokes():
    upload = make_mask()
    np.testing.assert_array_equal(editor_mask(upload, None, (120, 160)), upload)
    layer = np.zeros((120, 160, 4), np.uint8)
    layer[10:30, 20:60] = (255, 0, 0, 255)
    painted = editor_mask(None, {"layers": [layer]}, (120, 160))
    assert painted[15, 30] == 255 and painted[50, 100] == 0
    with pytest.raises(ValueError, match="paint the object"):
        editor_mask(None, {"layers": []}, (120, 160))
    with pytest.raises(ValueError, match="but the composite is 160x120"):
        editor_mask(np.zeros((10, 10), np.uint8), None, (120, 160))


def test_api_endpoint_matches_the_command_within_one_level(server, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(server, verbose=False)
    got = client.predict(handle_file(str(EXAMPLE[0])), handle_file(str(EXAMPLE[1])), 0.8,
                         api_name="/harmonize")  # fmt: skip
    code, _, err = run_cli("harmonize", EXAMPLE[0], EXAMPLE[1], "-o", tmp_path / "cli.png",
                           "--strength", 0.8)  # fmt: skip
    assert code == 0, err
    assert np.abs(read_rgb(got) - read_rgb(tmp_path / "cli.png")).max() <= 1
    # a bad upload is a message, and the server goes on serving
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small.png")
    wrong_size = r"small\.png: mask is 10x10 but the composite .* is 600x400"
    with pytest.raises(Exception, match=wrong_size):
        client.predict(handle_file(str(EXAMPLE[0])), handle_file(str(tmp_path / "small.png")),
                       1.0, api_name="/harmonize")  # fmt: skip
    again = client.predict(handle_file(str(EXAMPLE[0])), handle_file(str(EXAMPLE[1])), 0.8,
                           api_name="/harmonize")  # fmt: skip
    assert np.array_equal(read_rgb(again), read_rgb(got))


@pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on the PATH (Debian: apt-get install chromium)"
)
def test_the_page_in_a_real_browser(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    expected, _ = harmonize_arrays(read_rgb(EXAMPLE[0]).astype(np.uint8),
                                   np.asarray(Image.open(EXAMPLE[1]).convert("L")))  # fmt: skip
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server, wait_until="networkidle")
        # the example is preloaded; upload it anyway, as a user would their own
        page.set_input_files("#composite input[type=file]", str(EXAMPLE[0]))
        page.set_input_files("#mask input[type=file]", str(EXAMPLE[1]))
        page.wait_for_timeout(1000)
        page.click("#run-mask")
        page.wait_for_selector("#downloads a", timeout=60_000)
        links = page.eval_on_selector_all("#downloads a", "els => els.map(e => e.href)")
        shown = page.eval_on_selector_all("#result img", "els => els.map(e => e.src)")
        assert len(shown) == 2  # before and after, in the comparison slider
        names = [link.rsplit("/", 1)[-1] for link in links]
        stems = [name.split("-", 1)[0] + "." + name.rsplit(".", 1)[-1] for name in names]
        assert stems == ["result.png", "curves.json", "grade.cube"]  # request-tagged names
        assert len({name.split("-", 1)[1].split(".")[0] for name in names}) == 1
        (tmp_path / "result.png").write_bytes(page.request.get(links[0]).body())
        assert np.abs(read_rgb(tmp_path / "result.png") - expected).max() <= 1
        after = tmp_path / "after.jpeg"
        after.write_bytes(page.request.get(shown[1]).body())  # the slider shows JPEGs
        to_result = np.abs(read_rgb(after) - expected).mean()
        assert (
            to_result < 5 and to_result < np.abs(read_rgb(after) - read_rgb(EXAMPLE[0])).mean() / 2
        )
        page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)
        if os.environ.get("S2CRNET_SCREENSHOT"):  # to refresh the README's picture
            page.screenshot(path=os.environ["S2CRNET_SCREENSHOT"], full_page=True)
        # a bad upload: a message in the page, and the page goes on working
        page.get_by_role("tab", name="Cut-out + background").click()
        page.set_input_files("#cutout input[type=file]", str(EXAMPLE[0]))  # no transparency
        page.set_input_files("#background input[type=file]", str(EXAMPLE[0]))
        page.click("#run-cutout")
        page.get_by_text("fully opaque").first.wait_for(timeout=30_000)
        page.get_by_role("tab", name="Composite + mask").click()
        page.click("#run-mask")
        page.wait_for_selector("#downloads a", timeout=60_000)
        browser.close()


def test_the_video_tab_through_its_endpoint(server, tmp_path):
    pytest.importorskip("av", reason="PyAV (the [video] extra) is not installed")
    from gradio_client import Client, handle_file

    from test_video import make_clip

    masks = make_clip(tmp_path / "clip.mp4", frames=8, audio=False)
    Image.fromarray(masks[0]).save(tmp_path / "m.png")
    client = Client(server, verbose=False)
    video, summary = client.predict(
        handle_file(str(tmp_path / "clip.mp4")), handle_file(str(tmp_path / "m.png")),
        1.0, 0.8, "auto", api_name="/page_video",
    )  # fmt: skip
    assert summary.startswith("8 frames, the network on ")
    import av

    with av.open(video) as container:
        assert sum(1 for _ in container.decode(video=0)) == 8


def test_the_endpoint_says_what_is_wrong_with_a_bad_file(server, tmp_path):
    """A non-image used to come back as ``{"error": null}`` (Gradio's decoder failed
    before ours); the endpoint now decodes the files itself: our one line, no folders."""
    from gradio_client import Client, handle_file

    (tmp_path / "junk.png").write_bytes(np.random.default_rng(0).bytes(5000))
    client = Client(server, verbose=False)
    with pytest.raises(Exception, match=r"junk\.png: not an image file") as caught:
        client.predict(handle_file(str(tmp_path / "junk.png")), handle_file(str(EXAMPLE[1])),
                       1.0, api_name="/harmonize")  # fmt: skip
    assert "/tmp" not in str(caught.value)


def test_the_page_says_what_is_wrong_with_a_bad_upload(server, tmp_path):
    """A non-image dropped into one of the page's picture boxes used to fail inside
    Gradio's decoder, which shows only "Error"; now the box says which upload and why."""
    from gradio_client import Client, handle_file

    junk = tmp_path / "junk.png"
    junk.write_bytes(np.random.default_rng(1).bytes(5000))
    client = Client(server, verbose=False)
    with pytest.raises(Exception, match=r"junk\.png: not an image file") as caught:
        client.predict(handle_file(str(junk)), handle_file(str(EXAMPLE[0])), -1, -1, 1.0, 1.0,
                       "auto", api_name="/page_cutout")  # fmt: skip
    assert "/tmp" not in str(caught.value)
    editor = {"background": handle_file(str(EXAMPLE[0])), "layers": [], "composite": None}
    with pytest.raises(Exception, match=r"junk\.png: not an image file"):
        client.predict(editor, handle_file(str(junk)), 1.0, "auto", api_name="/page_mask")
    with pytest.raises(Exception, match=r"junk\.png: not an image file"):
        client.predict({**editor, "background": handle_file(str(junk))}, None, 1.0, "auto",
                       api_name="/page_mask")  # fmt: skip


def test_identical_requests_at_once_all_get_their_answer():
    """8 identical requests at once used to lose answers: they shared Gradio's cache file
    of the same bytes (one was rewritten while another was read). Now each result has a
    name of its own."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client, handle_file

    from s2crnet.demo import build_demo

    port = free_port()
    demo = build_demo()
    demo.queue(default_concurrency_limit=8).launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True
    )

    def one(_: int) -> int:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        out = client.predict(handle_file(str(EXAMPLE[0])), handle_file(str(EXAMPLE[1])), 1.0,
                             api_name="/harmonize")  # fmt: skip
        return int(read_rgb(out).sum())

    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(one, range(32)))
    finally:
        demo.close()
    assert len(answers) == 32 and len(set(answers)) == 1
