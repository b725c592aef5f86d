"""Real X input and screenshots for the window tests, from pip packages only.

Key presses are XTEST events (python-xlib), the same real input events ``xdotool key``
sends: the X server delivers them to the focused window as if typed. Screenshots are
read from the X server with ``GetImage``. So the only system package the window tests
need is an X server (Xvfb).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from Xlib import XK, X
from Xlib import display as xdisplay
from Xlib import error as xerror
from Xlib.ext import xtest


@contextmanager
def connect(display: str) -> Iterator[xdisplay.Display]:
    """A connection to the X server ``display``, closed on exit."""
    d = xdisplay.Display(display)
    try:
        yield d
    finally:
        d.close()


def _title(d: xdisplay.Display, window) -> str | None:
    net_name = d.intern_atom("_NET_WM_NAME")
    utf8 = d.intern_atom("UTF8_STRING")
    prop = window.get_full_property(net_name, utf8)
    if prop is not None:
        value = prop.value
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    name = window.get_wm_name()
    return name if isinstance(name, str) else None


def find_window(display: str, title: str) -> int | None:
    """The id of a window titled exactly ``title``, or None (``xdotool search --name``)."""
    with connect(display) as d:
        stack = [d.screen().root]
        while stack:
            window = stack.pop()
            try:
                if _title(d, window) == title:
                    return window.id
                stack.extend(window.query_tree().children)
            except xerror.XError:  # a window that went away while we looked
                continue
    return None


def focus(display: str, window_id: int, timeout: float = 10.0) -> None:
    """Gives ``window_id`` the keyboard focus and waits until the server reports it."""
    deadline = time.monotonic() + timeout
    with connect(display) as d:
        window = d.create_resource_object("window", window_id)
        while True:
            window.set_input_focus(X.RevertToParent, X.CurrentTime)
            d.sync()
            if d.get_input_focus().focus.id == window_id:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"window {window_id:#x} did not get the focus")
            time.sleep(0.05)


def key(display: str, name: str) -> None:
    """Presses and releases the key ``name`` (an X keysym name: ``space``, ``Escape``, ``4``).

    A keysym on a key's shifted level (``plus``) is typed with Shift held, as a person
    would.
    """
    keysym = XK.string_to_keysym(name)
    if not keysym:
        raise ValueError(f"no X keysym named {name!r}")
    with connect(display) as d:
        code = d.keysym_to_keycode(keysym)
        if not code:
            raise ValueError(f"no key on this keyboard types {name!r}")
        shift = d.keycode_to_keysym(code, 0) != keysym
        shift_code = d.keysym_to_keycode(XK.XK_Shift_L)
        if shift:
            xtest.fake_input(d, X.KeyPress, shift_code)
        xtest.fake_input(d, X.KeyPress, code)
        xtest.fake_input(d, X.KeyRelease, code)
        if shift:
            xtest.fake_input(d, X.KeyRelease, shift_code)
        d.sync()


def key_down(display: str, name: str, down: bool = True) -> None:
    """Presses (``down``) or releases the key ``name`` alone: a key held while something
    happens, as a person's finger stays on a key for a tenth of a second or more."""
    keysym = XK.string_to_keysym(name)
    if not keysym:
        raise ValueError(f"no X keysym named {name!r}")
    with connect(display) as d:
        code = d.keysym_to_keycode(keysym)
        if not code:
            raise ValueError(f"no key on this keyboard types {name!r}")
        xtest.fake_input(d, X.KeyPress if down else X.KeyRelease, code)
        d.sync()


def screenshot(display: str, window_id: int) -> np.ndarray:
    """The window's pixels as an ``(H, W, 3)`` uint8 RGB array (what is on screen)."""
    with connect(display) as d:
        window = d.create_resource_object("window", window_id)
        geo = window.get_geometry()
        image = window.get_image(0, 0, geo.width, geo.height, X.ZPixmap, 0xFFFFFFFF)
        if image.depth not in (24, 32):
            raise AssertionError(f"unexpected X visual depth {image.depth}")
        pixels = np.frombuffer(image.data, np.uint8)
        pixels = pixels[: geo.height * geo.width * 4].reshape(geo.height, geo.width, 4)
        return pixels[..., [2, 1, 0]].copy()  # BGRX in memory on little-endian servers
