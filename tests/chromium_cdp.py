"""A small DevTools-protocol client for headless Chromium over --remote-debugging-pipe (no extra package).

Chromium reads commands from fd 3 and writes answers to fd 4, each a JSON object ended by a NUL byte
(https://chromedevtools.github.io/devtools-protocol/, "--remote-debugging-pipe"). The browser tests and
bench/dashboard_html.py use it to click, pick dates and time drawing in the real page, which --dump-dom
cannot do.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
         "--remote-debugging-pipe"]


class ChromiumError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with one page; `evaluate` runs JavaScript in it and returns the value."""

    def __init__(self, executable: Path, width: int = 1400, height: int = 1800, timeout: float = 60.0) -> None:
        self.timeout = timeout
        self.width = width
        self._profile = tempfile.mkdtemp(prefix="kiro-cdp-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        # Runs in the child before it closes other descriptors (3 and 4 are kept by pass_fds): the protocol's fixed fds.
        def wire() -> None:
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self._process = subprocess.Popen([str(executable), *FLAGS, f"--user-data-dir={self._profile}",
                                          f"--window-size={width},{height}", "about:blank"],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, preexec_fn=wire,
                                         pass_fds=(3, 4, to_child_r, from_child_w))
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: List[Dict[str, Any]] = []
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page.enable", "Runtime.enable"):
            self.send(domain)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    # ---- protocol -------------------------------------------------------------------------------
    def _call(self, method: str, params: Optional[Dict[str, Any]] = None, session: Optional[str] = None) -> Any:
        self._next_id += 1
        message: Dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" not in self._buffer:
                if time.monotonic() > deadline:
                    raise ChromiumError(f"{method}: no answer in {self.timeout} s")
                chunk = os.read(self._from_child, 1 << 20)
                if not chunk:
                    raise ChromiumError(f"{method}: Chromium closed the pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise ChromiumError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            if "method" in answer:
                self.events.append(answer)

    def send(self, method: str, params: Optional[Dict[str, Any]] = None) -> Any:
        return self._call(method, params, self._session)

    # ---- page helpers ---------------------------------------------------------------------------
    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (a promise is awaited); a thrown error raises ChromiumError."""
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise ChromiumError(f"script error: {details.get('exception', {}).get('description') or details}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        """Navigate and wait until the page script says it is ready (body[data-ready])."""
        self.send("Page.navigate", {"url": url})
        self.wait_for("document.body && document.body.getAttribute('data-ready') === '1'"
                      f" && location.href === {json.dumps(url)}")

    def wait_for(self, expression: str, timeout: Optional[float] = None) -> Any:
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise ChromiumError(f"timed out waiting for {expression}")
            time.sleep(0.05)

    def click(self, selector: str) -> None:
        """A real mouse click at the centre of the first element matching ``selector``."""
        box = self.evaluate(f"(function () {{ var n = document.querySelector({json.dumps(selector)});"
                            " if (!n) return null; n.scrollIntoView({block: 'center'});"
                            " var r = n.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2];"
                            " })()")
        if not box:
            raise ChromiumError(f"nothing matches {selector}")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left",
                                                   "clickCount": 1})

    def set_value(self, selector: str, value: str) -> None:
        """Fill an input as a person picking a value does: set it, then fire input and change (what the page hears).

        Chromium draws a date input's picker itself, out of reach of page events; Playwright's fill() does the same."""
        script = ("(function (n, value) { if (!n) return null; n.focus(); n.value = value;"
                  " n.dispatchEvent(new Event('input', {bubbles: true}));"
                  " n.dispatchEvent(new Event('change', {bubbles: true})); return n.value; })")
        done = self.evaluate(f"{script}(document.querySelector({json.dumps(selector)}), {json.dumps(value)})")
        if done != value:
            raise ChromiumError(f"{selector}: could not set {value!r} (now {done!r})")

    def select(self, selector: str, values: List[str]) -> None:
        """Choose options of a <select> (several for a multi-select), then fire change, as selectOption() does."""
        # A single <select> always keeps one option selected, so count only after every option is set.
        script = ("(function (n, wanted) { if (!n) return null;"
                  " Array.prototype.forEach.call(n.options, function (o) {"
                  " o.selected = wanted.indexOf(o.value) >= 0; });"
                  " n.dispatchEvent(new Event('change', {bubbles: true}));"
                  " return Array.prototype.filter.call(n.options, function (o) {"
                  " return o.selected && wanted.indexOf(o.value) >= 0; }).length; })")
        done = self.evaluate(f"{script}(document.querySelector({json.dumps(selector)}), {json.dumps(values)})")
        if done != len(values):
            raise ChromiumError(f"{selector}: could not choose {values} ({done} chosen)")

    def download_to(self, folder: Path) -> None:
        """Let the page's downloads (the CSV export) land in ``folder``."""
        self._call("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})

    def screenshot(self, target: Path) -> Path:
        height = self.evaluate("Math.ceil(document.documentElement.scrollHeight)")
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                    "clip": {"x": 0, "y": 0, "width": self.width, "height": height,
                                                             "scale": 1}})
        Path(target).write_bytes(base64.b64decode(shot["data"]))
        return Path(target)

    def close(self) -> None:
        with contextlib.suppress(ChromiumError, OSError):
            self._call("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
