#!/usr/bin/python3
"""The playground in a real browser: Debian's chromium, headless, driven through selenium and chromedriver.

It starts `adgraph playground --port 0` (an argument vector, no shell), reads the URL from its "serving on" line and
opens the page. Then, as a user would, through the page's controls:
  1. the default page (circle, 4,2, tanh) trains under "play" until the test loss shown is below --loss-bound; the
     frames per second the page reaches (window.playgroundStats) are printed, not asserted; screenshot;
  2. data set xor and one hidden layer of 4 (the remove-layer button): the layers drawn and the URL hash follow,
     and it trains below the bound again;
  3. spiral with sin x1, sin x2 and two layers of 8 (buttons), trained for a bounded time, fps printed; screenshot;
  4. a click on a neuron opens the gradient view (a row per incoming weight and the bias, the reverse sweep);
     screenshot;
  5. bad input: a hash typed with 9 neurons shows the server's message in #error, the session keeps its network,
     and a page loaded with such a hash shows the message and starts from the defaults;
  6. the export link serves a safetensors file (its 8-byte header length and JSON header).
Also: the output map painted equals the server's map decoded and coloured here; hovers, the regression data sets, a
link restoring a configuration, and a freed session (404) replaced through the page's button.
Every screenshot must not be blank (many colours), and the output canvas must show both orange and blue. At the end
the server must exit 0 on SIGTERM, without a sanitizer report in its output.

Exit 0 pass, 1 fail, 77 skip when chromium, chromedriver, selenium or PIL are missing (fail instead when
ADGRAPH_REQUIRE_BROWSER=1, as .ci/run sets). Always run with /usr/bin/python3 (Debian's selenium).
"""
import argparse
import base64
import io
import json
import os
import queue
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

SKIP = 77
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def missing_tools():
    missing = []
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            missing.append(path)
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("python3-selenium")
    try:
        import PIL  # noqa: F401
    except ImportError:
        missing.append("python3-pil")
    return missing


class ServerProcess:
    """`adgraph playground --port 0`, its output drained by a thread (so the pipe never fills)."""

    def __init__(self, adgraph, workdir):
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        self.proc = subprocess.Popen([adgraph, "playground", "--port", "0"], cwd=workdir, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, errors="replace")
        self.lines = []
        self.urls = queue.Queue()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if "serving on" in line:
                m = re.search(r"https?://[^\s]+", line)
                if m:
                    self.urls.put(m.group(0).rstrip(".,;)"))

    def url(self, timeout):
        try:
            return self.urls.get(timeout=timeout)
        except queue.Empty:
            raise Failure("no 'serving on <url>' line from adgraph playground within %d s; its output:\n%s" %
                          (timeout, "\n".join(self.lines)))

    def stop(self):
        """SIGTERM (the server stops cleanly on it), SIGKILL after 10 s; returns (exit code, killed)."""
        killed = False
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                killed = True
        self.thread.join(timeout=5)
        return self.proc.returncode, killed


def start_browser(profile_dir, width, height):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
                "--force-device-scale-factor=1", "--window-size=%d,%d" % (width, height),
                "--user-data-dir=" + profile_dir, "--no-first-run", "--disable-extensions",
                # keep requestAnimationFrame at full rate in a window nobody looks at
                "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                "--disable-backgrounding-occluded-windows"):
        options.add_argument(arg)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.add_argument("--no-sandbox")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(width, height)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    return driver


class Page:
    def __init__(self, driver, url, timeout):
        self.d = driver
        self.url = url
        self.timeout = timeout

    def el(self, element_id):
        from selenium.webdriver.common.by import By
        return self.d.find_element(By.ID, element_id)

    def exists(self, element_id):
        from selenium.webdriver.common.by import By
        return len(self.d.find_elements(By.ID, element_id)) > 0

    def click(self, element_id):
        self.el(element_id).click()

    def text(self, element_id):
        return self.el(element_id).text.strip()

    def stats(self):
        return self.d.execute_script("return Object.assign({}, window.playgroundStats || {});")

    def error_text(self):
        return self.d.execute_script("const e = document.getElementById('error');"
                                     "return e && !e.hidden ? document.getElementById('error-text').textContent : '';")

    def wait_for(self, what, predicate, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise Failure("timed out waiting for " + what + "; error area: " + repr(self.error_text()))
            time.sleep(0.1)

    def wait_idle(self):
        """Until the page has no request in flight (configuration changes go through one queue)."""
        self.wait_for("the page's requests to finish", lambda: self.d.execute_script("return app.busy === 0;"))

    def wait_ready(self):
        self.wait_for("the page's first state", lambda: re.match(r"^\d", self.text("loss-test")) is not None)
        self.wait_idle()

    def test_loss(self):
        t = self.text("loss-test")
        check(t != "diverged", "the page shows the test loss as diverged")
        return float(t) if re.match(r"^[0-9.]+$", t) else None

    def epoch(self):
        return int(self.text("epoch").replace(",", ""))

    def playing(self):
        return "playing" in (self.el("play").get_attribute("class") or "")

    def set_playing(self, on):
        if self.playing() != on:
            self.click("play")
        self.wait_for("play state " + str(on), lambda: self.playing() == on)
        if not on:
            self.wait_idle()

    def train_until(self, bound, timeout):
        """Plays until the test loss shown is below `bound`; returns (loss, epoch, seconds)."""
        start = time.monotonic()
        self.set_playing(True)
        try:
            while True:
                loss = self.test_loss()
                check(not self.error_text(), "error while training: " + self.error_text())
                if loss is not None and loss < bound:
                    return loss, self.epoch(), time.monotonic() - start
                if time.monotonic() - start > timeout:
                    raise Failure("test loss %s not below %g after %.0f s (epoch %d)" %
                                  (loss, bound, timeout, self.epoch()))
                time.sleep(0.2)
        finally:
            self.set_playing(False)

    def hash(self):
        return self.d.execute_script("return location.hash;")

    def neuron_counts(self):
        """Neurons drawn per layer 1.., the output last, from the node-<l>-<j> elements."""
        return self.d.execute_script(
            "const c = []; for (const n of document.querySelectorAll('.neuron')) {"
            " const l = Number(n.dataset.l); c[l - 1] = (c[l - 1] || 0) + 1; } return c;")


def image_of(png_bytes):
    from PIL import Image
    return Image.open(io.BytesIO(png_bytes)).convert("RGB")


def colour_count(img):
    colours = img.getcolors(maxcolors=1 << 24)
    return len(colours) if colours else 0


def orange_blue_shares(img):
    """Shares of orange-ish and blue-ish pixels (the heat map's two ends)."""
    small = img.resize((100, 100))
    orange = blue = 0
    for r, g, b in small.getdata():
        if r > b + 80 and r > 150 and g > b:
            orange += 1
        elif b > r + 60 and b > 120:
            blue += 1
    n = small.size[0] * small.size[1]
    return orange / n, blue / n


def check_screenshot(page, name, out_dir):
    """Saves the page's screenshot (palette PNG, small for the docs); checks it and the output canvas."""
    png = page.d.get_screenshot_as_png()
    img = image_of(png)
    count = colour_count(img)
    check(count >= 50, "screenshot %s looks blank: %d distinct colours" % (name, count))
    canvas = image_of(page.el("output-canvas").screenshot_as_png)
    orange, blue = orange_blue_shares(canvas)
    check(orange >= 0.02 and blue >= 0.02,
          "output canvas in %s lacks a colour: %.1f %% orange-ish, %.1f %% blue-ish pixels" %
          (name, 100 * orange, 100 * blue))
    path = os.path.join(out_dir, name)
    from PIL import Image
    img.quantize(colors=128, dither=Image.Dither.NONE).save(path, optimize=True)
    print("screenshot %s: %d colours, output canvas %.0f %% orange-ish / %.0f %% blue-ish, %d bytes" %
          (path, count, 100 * orange, 100 * blue, os.path.getsize(path)))


def scale_colour(v):
    """The colour scale the page promises (the original's): orange at -1, #e8eaeb at 0, blue at +1, linear."""
    orange, middle, blue = (245, 147, 34), (232, 234, 235), (8, 119, 189)
    end = orange if v < 0 else blue
    a = min(1.0, abs(v))
    return tuple(round(m + (e - m) * a) for m, e in zip(middle, end))


def check_output_colours(page):
    """The output map the page painted (before scaling and points) against the server's bytes, decoded here as the
    API document says (v = byte / 127.5 - 1) and coloured by the scale above."""
    d = page.d
    epoch, side, pixels = d.execute_script(
        "const c = app.offscreen; const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "return [app.state.epoch, c.width, Array.from(px)];")
    session = d.execute_script("return app.id;")
    with urllib.request.urlopen(page.url.rstrip("/") + "/api/sessions/%s/state" % session, timeout=30) as r:
        state = json.load(r)["state"]
    check(state["epoch"] == epoch, "state epoch %d, page shows %d" % (state["epoch"], epoch))
    raw = base64.b64decode(state["maps"]["output"], validate=True)
    check(len(raw) == side * side, "output map of %d bytes for a %d² canvas" % (len(raw), side))
    worst = 0
    for k, b in enumerate(raw):
        want = scale_colour(b / 127.5 - 1)
        got = pixels[4 * k:4 * k + 3]
        worst = max(worst, max(abs(g - w) for g, w in zip(got, want)))
    check(worst <= 1, "output canvas differs from the server's map by %d colour levels" % worst)
    print("output canvas: %d² cells match the server's map and the colour scale (worst %d level)" % (side, worst))


def check_page_helpers(page):
    """The page's base64 decoding against Python's encoder, and its hash format read back by its parser."""
    data = bytes(range(256)) + bytes([0, 255, 128])
    got = page.d.execute_script("return Array.from(decodeBase64(arguments[0]));", base64.b64encode(data).decode())
    check(bytes(got) == data, "decodeBase64 differs from Python's base64 on 0..255")
    config = {"dataset": "spiral", "noise": 25, "train_percent": 70, "batch_size": 3, "seed": 42,
              "features": ["x1", "sinx2"], "layers": [8, 1, 3], "activation": "relu", "learning_rate": 0.003,
              "regularization": "l2", "regularization_rate": 0.001}
    view = {"show_test": True, "discretize": False, "selected": "2-0"}
    back = page.d.execute_script("return parseHash('#' + formatHash(arguments[0], arguments[1]));", config, view)
    check(back == {"config": config, "view": view}, "hash round trip: %s" % back)


def measure_fps(page, seconds):
    """Plays for `seconds` and returns window.playgroundStats at the end (fps over its last ~2 s)."""
    page.set_playing(True)
    time.sleep(seconds)
    stats = page.stats()
    page.set_playing(False)
    return stats


def report_fps(label, stats):
    print("fps %s: %.1f frames/s (last step + maps round trip %.1f ms, frames so far %d, epoch %d)" %
          (label, stats.get("fps", 0), stats.get("lastStepMs", 0), stats.get("frames", 0), stats.get("epoch", 0)))


def run(page, args, out_dir):
    d = page.d
    d.get(page.url)
    page.wait_ready()
    check(not page.error_text(), "error on a fresh page: " + page.error_text())
    check(d.title.startswith("adgraph playground"), "unexpected page title " + repr(d.title))
    check(page.neuron_counts() == [4, 2, 1], "default network drawn as %s, expected [4, 2, 1]" % page.neuron_counts())
    check("dataset=circle" in page.hash() and "layers=4,2" in page.hash(), "hash " + page.hash())

    # 1. the default network; its frame rate is the speed measure
    default_fps = measure_fps(page, args.fps_seconds)
    report_fps("default network (circle, 4,2, tanh)", default_fps)
    loss, epoch, secs = page.train_until(args.loss_bound, args.timeout)
    print("circle 4,2: test loss %.4f at epoch %d after %.1f s of play" % (loss, epoch, secs))
    check_screenshot(page, "playground-default.png", out_dir)
    check_output_colours(page)
    check_page_helpers(page)

    # 2. xor, one hidden layer of 4
    page.click("dataset-xor")
    page.wait_idle()
    page.click("remove-layer")
    page.wait_idle()
    check(page.neuron_counts() == [4, 1], "after remove-layer: layers drawn %s, expected [4, 1]" % page.neuron_counts())
    check("selected" in page.el("dataset-xor").get_attribute("class"), "xor not marked selected")
    check("dataset=xor" in page.hash() and "layers=4&" in page.hash(), "hash after the changes: " + page.hash())
    check(page.epoch() == 0, "a new configuration must start at epoch 0, shows %d" % page.epoch())
    loss, epoch, secs = page.train_until(args.loss_bound, args.timeout)
    print("xor 4: test loss %.4f at epoch %d after %.1f s of play" % (loss, epoch, secs))

    # hover: a neuron's bias and a link's weight, each with its gradient
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(d).move_to_element(page.el("node-1-0")).perform()
    card = page.wait_for("the hover card of a neuron", lambda: page.el("hovercard").is_displayed() and
                         page.text("hovercard"))
    check("bias" in card and "\u2202L/\u2202b" in card, "neuron hover card: " + repr(card))
    d.execute_script("document.querySelector('.link-hit').dispatchEvent(new MouseEvent('mouseenter',"
                     " {clientX: 300, clientY: 300}));")
    card = page.text("hovercard")
    check("weight" in card and "\u2202L/\u2202w" in card, "link hover card: " + repr(card))
    ActionChains(d).move_to_element(page.el("epoch")).perform()
    d.execute_script("document.querySelector('.link-hit').dispatchEvent(new MouseEvent('mouseleave'));")

    # regression: the problem type switches the data sets offered
    from selenium.webdriver.support.ui import Select
    Select(page.el("problem")).select_by_value("regression")
    page.wait_idle()
    check("selected" in page.el("dataset-plane").get_attribute("class"), "regression did not select plane")
    check(not page.el("dataset-circle").is_displayed() and page.el("dataset-multigauss").is_displayed(),
          "the regression data sets must replace the classification ones")
    page.click("step")
    page.wait_idle()
    check(page.epoch() == 1 and page.test_loss() is not None, "one step on plane: epoch %d" % page.epoch())
    Select(page.el("problem")).select_by_value("classification")
    page.wait_idle()
    check("dataset=circle" in page.hash(), "back to classification: " + page.hash())

    # 3. spiral, x1 x2 sin x1 sin x2, 8,8 tanh
    page.click("dataset-spiral")
    page.wait_idle()
    for f in ("sinx1", "sinx2"):
        page.click("feature-" + f)
        page.wait_idle()
    page.click("add-layer")
    page.wait_idle()
    for layer, clicks in ((1, 4), (2, 6)):
        for _ in range(clicks):
            page.click("layer-%d-add" % layer)
            page.wait_idle()
    check(page.neuron_counts() == [8, 8, 1], "spiral network drawn as %s, expected [8, 8, 1]" % page.neuron_counts())
    check(not page.el("layer-1-add").is_enabled(), "layer-1-add must be disabled at 8 neurons")
    h = page.hash()
    check("features=x1,x2,sinx1,sinx2" in h and "layers=8,8" in h, "hash after the spiral changes: " + h)
    spiral_fps = measure_fps(page, args.fps_seconds)
    report_fps("spiral 8,8 tanh, 4 features", spiral_fps)
    try:
        loss, epoch, secs = page.train_until(args.spiral_bound, args.spiral_seconds)
        print("spiral 8,8: test loss %.4f at epoch %d after %.1f s of play" % (loss, epoch, secs))
    except Failure as e:  # a time budget, not a quality check (docs/playground.md quotes the headless numbers)
        print("spiral 8,8: " + str(e))
    check_screenshot(page, "playground-spiral.png", out_dir)

    # 4. the gradient view of a hidden neuron of the second layer
    page.click("node-2-3")
    page.wait_for("the gradient panel", lambda: page.el("gradient-panel").is_displayed())
    rows = d.execute_script("return document.getElementById('gradient-table').rows.length;")
    check(rows == 1 + 8 + 1, "gradient table has %d rows, expected a header, 8 weights and the bias" % rows)
    check("selected=2-3" in page.hash(), "hash without the selection: " + page.hash())
    gradient_cells = d.execute_script(
        "return [...document.querySelectorAll('#gradient-table td:nth-child(3)')].map(c => c.textContent);")
    check(all(re.match(r"^-?[0-9.e+-]+$", c) for c in gradient_cells), "gradient cells: %s" % gradient_cells)
    page.click("step")
    page.wait_idle()
    page.wait_for("a lit layer of the reverse sweep",
                  lambda: d.execute_script("return document.querySelectorAll('.sweep-layer.lit').length === 1;"))
    check_screenshot(page, "playground-gradient.png", out_dir)
    page.click("node-2-3")  # leave the gradient view
    page.wait_for("the gradient panel to close", lambda: not page.el("gradient-panel").is_displayed())

    # a link restores configuration and view
    d.get("about:blank")
    d.get(page.url + "#dataset=gauss&layers=3&activation=relu&learning_rate=0.1&show_test=1&discretize=1&selected=1-2")
    page.wait_ready()
    check(not page.error_text(), "error after a good link: " + page.error_text())
    check("selected" in page.el("dataset-gauss").get_attribute("class"), "the link's data set is not selected")
    check(page.neuron_counts() == [3, 1], "the link's layers drawn as %s" % page.neuron_counts())
    check(page.el("activation").get_attribute("value") == "relu", "activation not restored")
    check(page.el("learning-rate").get_attribute("value") == "0.1", "learning rate not restored")
    check(page.el("show-test").is_selected() and page.el("discretize").is_selected(), "view options not restored")
    check(page.el("gradient-panel").is_displayed(), "the selected neuron's gradient view is not open")
    check("selected=1-2" in page.hash() and "dataset=gauss" in page.hash(), "hash after the link " + page.hash())
    page.click("node-1-2")
    page.click("show-test")
    page.click("discretize")
    check("show_test=0" in page.hash() and "discretize=0" in page.hash() and "selected" not in page.hash(),
          "hash after the view changes: " + page.hash())

    # a freed session (404): the page offers a new one
    status = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/api/sessions/' + app.id, {method: 'DELETE'}).then(r => done(r.status));")
    check(status == 204, "DELETE answered %s" % status)
    old_id = d.execute_script("return app.id;")
    page.click("step")
    message = page.wait_for("the 404 message", page.error_text)
    check("unknown session" in message and page.el("error-action").is_displayed(),
          "after the session was freed: %r, new-session button shown: %s" %
          (message, page.el("error-action").is_displayed()))
    page.click("error-action")
    page.wait_for("a new session", lambda: d.execute_script("return app.id;") not in (None, old_id))
    page.wait_idle()
    check(not page.error_text(), "error after the new session: " + page.error_text())
    page.click("step")
    page.wait_idle()
    check(page.epoch() == 1, "the new session steps: epoch %d" % page.epoch())

    # 5. bad input: a hash typed with 9 neurons
    d.execute_script("location.hash = 'layers=9';")
    message = page.wait_for("the server's message in #error", page.error_text)
    print("typed hash layers=9 shows: " + message)
    check(message.startswith("playground: ") and "9 neurons" in message, "unexpected message " + repr(message))
    page.wait_idle()
    check(page.neuron_counts() == [3, 1], "the session must keep its network after a rejected config")
    check("layers=3&" in page.hash(), "the hash must return to the session's config: " + page.hash())
    page.click("error-close")
    d.get("about:blank")
    d.get(page.url + "#dataset=xor&layers=4,9")
    page.wait_ready()
    message = page.error_text()
    check(message.startswith("playground: ") and "9 neurons" in message,
          "a page loaded with layers=4,9 shows %r in #error" % message)
    check(page.neuron_counts() == [4, 2, 1], "after a bad link the page starts from the defaults")

    # 6. the export link
    href = page.el("export").get_attribute("href")
    check(href.endswith("/model.safetensors"), "export link " + href)
    got = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.arrayBuffer().then(b => done({status: r.status,"
        " bytes: Array.from(new Uint8Array(b))}))).catch(e => done({status: -1, bytes: [], error: String(e)}));",
        href)
    check(got["status"] == 200, "export answered %s" % got)
    data = bytes(got["bytes"])
    check(len(data) > 8, "export sent %d bytes" % len(data))
    (header_len,) = struct.unpack("<Q", data[:8])
    check(8 + header_len <= len(data), "safetensors header length %d beyond %d bytes" % (header_len, len(data)))
    header = json.loads(data[8:8 + header_len].decode("utf-8"))
    check("0.weight" in header, "safetensors header without 0.weight: %s" % sorted(header))
    print("export: %d bytes, tensors %s" % (len(data), sorted(k for k in header if k != "__metadata__")))

    print("SUMMARY fps default %.1f, fps spiral 8,8 %.1f" % (default_fps.get("fps", 0), spiral_fps.get("fps", 0)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adgraph", required=True, help="the adgraph binary")
    parser.add_argument("--screenshots", help="directory for the screenshots (default: a temporary one)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for each training to the bound")
    parser.add_argument("--loss-bound", type=float, default=0.1, help="test loss the circle and xor runs must reach")
    parser.add_argument("--spiral-bound", type=float, default=0.1, help="test loss the spiral run stops at")
    parser.add_argument("--spiral-seconds", type=float, default=60, help="play time for the spiral at most")
    parser.add_argument("--fps-seconds", type=float, default=4, help="play time of each frame rate measurement")
    parser.add_argument("--window", default="1400x1100", help="browser window size")
    args = parser.parse_args()

    missing = missing_tools()
    if missing:
        required = os.environ.get("ADGRAPH_REQUIRE_BROWSER") == "1"
        print("%s: missing %s" % ("FAIL" if required else "SKIP", ", ".join(missing)))
        return 1 if required else SKIP
    if not os.access(args.adgraph, os.X_OK):
        print("FAIL: no adgraph binary at " + args.adgraph)
        return 1

    work = tempfile.mkdtemp(prefix="adgraph_browser_")
    out_dir = args.screenshots or tempfile.mkdtemp(prefix="adgraph_browser_screenshots_")
    os.makedirs(out_dir, exist_ok=True)
    passed = False
    width, height = (int(v) for v in args.window.split("x"))
    server = None
    driver = None
    try:
        server = ServerProcess(os.path.abspath(args.adgraph), work)  # it runs in `work`
        url = server.url(timeout=30)
        print("server: " + url)
        driver = start_browser(os.path.join(work, "profile"), width, height)
        run(Page(driver, url, args.timeout), args, out_dir)
        driver.quit()
        driver = None
        rc, killed = server.stop()
        check(not killed and rc == 0, "adgraph playground did not exit cleanly on SIGTERM: exit code %s%s" %
              (rc, ", killed after 10 s" if killed else ""))
        reports = [line for line in server.lines if "Sanitizer" in line or "runtime error:" in line]
        check(not reports, "the server reported errors:\n" + "\n".join(server.lines))
        passed = True
        print("PASS (screenshots in %s)" % (out_dir if args.screenshots else "a temporary directory, removed"))
        return 0
    except Failure as e:
        print("FAIL: " + str(e))
        if driver is not None:
            try:
                driver.save_screenshot(os.path.join(out_dir, "failure.png"))
                print("page at failure: " + os.path.join(out_dir, "failure.png"))
                for entry in driver.get_log("browser"):
                    print("browser log: %s" % entry)
            except Exception as e2:  # the report matters more than this extra
                print("(no failure screenshot: %s)" % e2)
        return 1
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception as e:
                print("browser did not quit cleanly: %s" % e)
        if server is not None:
            server.stop()
            if server.lines:
                print("server output:\n  " + "\n  ".join(server.lines[-20:]))
        shutil.rmtree(work, ignore_errors=True)
        if passed and not args.screenshots:  # kept after a failure, to look at
            shutil.rmtree(out_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
