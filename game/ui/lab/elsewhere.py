"""Where the lab's teams learn in the window: the learner's child process, or beside the frames.

In the window's process the four teams' gradient steps (about 0.3 s of CPU a second of 1x on
arcade) held Python's GIL against the frame's drawing. So the window gives them the learner's
child process (``ai.process.remote``): each team's learner is a slot of one child, which runs
its steps as the lab pays them and sends its weights back as soon as they are done; the lab
takes them before the team decides (``Lab._settle``), so every team learns exactly as in the
headless lab (``tests/test_remote.py``). Until the child is ready (its ~2 s of torch import),
if it fails, or with ``GRAVITY_FLYER_LEARNER_PROCESS=0``, the lab pays them in the window's
process as before (``Lab.start_worker``): a learner is touched by one thread at a time, so the
worker stops before the teams move to the child.

Rules: as ``game.ui``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from game.play.lab import Lab


class TeamsElsewhere:
    """The child process (``host``) the teams of the window's labs learn in.

    Args:
        beside: in the window's process, a worker thread pays the steps beside the frames
            (else each frame's spare time does; ``Lab.start_worker``).
    """

    def __init__(self, beside: bool) -> None:
        self.beside = beside
        self.start: Callable[[], Any] | None = None
        """Starts the child at the first frame (``game.ui.app``): it returns an
        ``ai.process.remote.Host`` or None."""
        self.host: Any = None

    @property
    def hosted(self) -> bool:
        """The child is ready and working: the teams learn there."""
        return self.host is not None and self.host.ready and self.host.failed is None

    @property
    def status(self) -> str | None:
        """For the state file: 'learning', 'starting', why it stopped, or None (no child)."""
        if self.host is None:
            return None
        return "learning" if self.hosted else self.host.failed or "starting"

    def join(self, lab: Lab) -> None:
        """A new lab's teams learn in the child if it is ready, else beside the frames."""
        if self.hosted:
            self._attach(lab)
        else:
            lab.start_worker(thread=self.beside)

    def poll(self, lab: Lab) -> None:
        """Each frame: the child's messages; once it is ready the teams move there, and if it
        fails they learn in the window's process again."""
        if self.start is not None:
            self.host, self.start = self.start(), None
        if self.host is None:
            return
        self.host.poll()
        if self.hosted and lab.worker is not None:
            lab.stop_worker()
            self._attach(lab)
        elif self.host.failed is not None and lab.worker is None:
            lab.start_worker(thread=self.beside)

    def _attach(self, lab: Lab) -> None:
        from ai.process.remote import RemoteSteps

        remotes = [RemoteSteps(team.learner, self.host, auto=False, send=False)
                   for team in lab.teams]
        for team, remote in zip(lab.teams, remotes, strict=True):
            team.learner.remote = remote
        self.host.send_states(remotes)  # on one thread: the frame waits for none of them

    def leave(self, lab: Lab) -> None:
        """A lab's teams leave the child (a new line-up): their copies there are dropped."""
        for team in lab.teams:
            remote = getattr(team.learner, "remote", None)
            if remote is not None:
                remote.close()

    def close(self) -> None:
        """Ends the child (the window closes)."""
        if self.host is not None:
            self.host.close()
