"""Text over the field: the big score, the toast, the banner, notices, the saved mark and,
when the side panels fold away, the status line (who flies, learning, speed)."""

from __future__ import annotations

from typing import Any

from game.ui import widgets as w
from game.ui.layout import Layout
from game.ui.messages import Messages, banner_text, credit_line, hint_text, status_line


class Overlay:
    """The drawables of the texts over the field; ``messages`` says what they show."""

    def __init__(self, batch: Any, groups: list[Any], messages: Messages) -> None:
        g6, g7 = groups[6], groups[7]
        self.messages = messages
        self.score = w.ShadowLabel(batch, g6, g7, 40, anchor_x="center", anchor_y="top")
        self.toast = w.ShadowLabel(batch, g6, g7, 15, anchor_x="center", anchor_y="top")
        self.credit = w.ShadowLabel(batch, g6, g7, 13, anchor_x="center", anchor_y="top")
        self.banner_bg = w.rect(batch, g6, (10, 18, 32, 170))
        self.banner = w.ShadowLabel(batch, g6, g7, 26, anchor_x="center", anchor_y="center")
        self.banner_sub = w.label(batch, g7, 13, anchor_x="center", anchor_y="center")
        self.banner_hint = w.label(batch, g7, 11, color=(255, 225, 150, 255), multiline=True,
                                   width=100, align="center", anchor_x="center",
                                   anchor_y="top")
        self.hint_shown = ""
        """The tap hint under the banner ('' when none)."""
        # messages about the learner's memory (load problems, failed saves): bottom of the field
        self.notice_bg = w.rect(batch, g6, (10, 18, 32, 200))
        self.notice_bg.visible = False
        self.notice_label = w.label(batch, g7, 10.5, multiline=True, width=100,
                                    anchor_y="bottom")
        self._notice_key: tuple[tuple[str, ...], float, float] = ((), 0.0, 0.0)
        # the essentials when the side panels fold away: bottom left of the field
        self.status_bg = w.rect(batch, g6, (10, 18, 32, 190))
        self.status_bg.visible = False
        self.status = w.label(batch, g7, 10.5, bold=True, anchor_y="bottom")
        self.status_shown = ""
        """The status line on screen ('' when the panels show it)."""
        # the small "Saved" flash: top-left corner of the field
        self.saved_bg = w.rect(batch, g6, (10, 18, 32, 190))
        self.saved_bg.visible = False
        self.saved = w.label(batch, g7, 10.5, color=(150, 235, 160, 255), bold=True,
                             anchor_y="top")

    def update(self, session: Any, L: Layout) -> None:
        top = L.y0 + L.side - 14
        cx = L.x0 + L.side / 2
        self.score.set(str(session.score), cx, top)
        credit = credit_line(session)
        if credit:
            self.credit.set(credit, cx, top - 52)
        else:
            self.credit.hide()
        toast = self.messages.toast()
        size = 15 if L.side >= 420 else 11  # a small field: the toast must still fit across
        if self.toast.text.font_size != size:
            self.toast.text.font_size = self.toast.shadow.font_size = size
        if toast:
            self.toast.set(toast, cx, top - (78 if credit else 58))
        else:
            self.toast.hide()
        self._place_status(session, L)
        self._place_notices(L)
        self._place_saved(L)
        self._place_banner(session, L)

    def _place_status(self, session: Any, L: Layout) -> None:
        text = status_line(session) if L.folded else ""
        if text == self.status_shown and (not text or self.status.x == L.x0 + 14):
            return
        self.status_shown = text
        w.set_text(self.status, text)
        self.status_bg.visible = bool(text)
        if text:
            w.move(self.status, L.x0 + 14, L.y0 + 12)
            w.place_rect(self.status_bg, L.x0 + 6, L.y0 + 6, self.status.content_width + 16,
                         self.status.content_height + 10)

    def _place_notices(self, L: Layout) -> None:
        shown = tuple(self.messages.notices_shown())
        lift = self.status.content_height + 12 if self.status_shown else 0.0
        key = (shown, L.x0, lift)
        if key == self._notice_key:
            return
        self._notice_key = key
        if not shown:
            w.set_text(self.notice_label, "")
            self.notice_bg.visible = False
            return
        self.notice_label.width = max(L.side - 28, 60)
        w.set_text(self.notice_label, "\n".join(shown))
        w.move(self.notice_label, L.x0 + 14, L.y0 + 14 + lift)
        w.place_rect(self.notice_bg, L.x0 + 6, L.y0 + 6 + lift, L.side - 12,
                     self.notice_label.content_height + 16)
        self.notice_bg.visible = True

    def _place_saved(self, L: Layout) -> None:
        on = self.messages.saved_flash()
        if on == self.saved_bg.visible and (not on or self.saved.x == L.x0 + 16):
            return
        w.set_text(self.saved, "✓ Saved" if on else "")
        self.saved_bg.visible = on
        if on:
            w.move(self.saved, L.x0 + 16, L.y0 + L.side - 16)
            w.place_rect(self.saved_bg, L.x0 + 8,
                         L.y0 + L.side - 16 - self.saved.content_height - 6,
                         self.saved.content_width + 16, self.saved.content_height + 12)

    def _place_banner(self, session: Any, L: Layout) -> None:
        title, sub = banner_text(session)
        hint = hint_text(session) if title else ""
        self.hint_shown = hint
        cx, cy = L.x0 + L.side / 2, L.y0 + L.side * 0.55
        if title:
            self.banner.set(title, cx, cy + 14)
            small = 11 if L.side < 480 else 13  # the line fits across a small field too
            if self.banner_sub.font_size != small:
                self.banner_sub.font_size = small
                self.banner_hint.font_size = small - 2
            w.set_text(self.banner_sub, sub)
            w.move(self.banner_sub, cx, cy - 22)
            width = max(L.side - 24, 60)
            if self.banner_hint.width != width:
                self.banner_hint.width = width
            w.set_text(self.banner_hint, hint)
            w.move(self.banner_hint, cx, cy - 40)
            extra = self.banner_hint.content_height + 8 if hint else 0
            w.place_rect(self.banner_bg, L.x0, cy - 46 - extra, L.side, 96 + extra)
            self.banner_bg.visible = True
        else:
            self.banner.hide()
            w.set_text(self.banner_sub, "")
            w.set_text(self.banner_hint, "")
            self.banner_bg.visible = False
