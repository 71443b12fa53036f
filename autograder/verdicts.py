"""Check outcomes turned into verdicts: a score, one sentence, and the lessons."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import messages

# Lessons attach by rule to the check that failed, not by what a check says.
LESSONS_BY_CHECK = {
    "learning_rate": ("learning_rate",),
    "epochs": ("epochs",),
    "tolerance": ("tolerance",),
    "convergence": ("tolerance",),
}


class CheckFailed(AssertionError):
    """Raised by a hidden check: `key` names the sentence, `facts` fill it in.

    `lessons` adds lessons beyond the check's own rule (a choice that changes
    between runs earns the epochs lesson wherever it shows up).
    """

    def __init__(self, key: str, *, lessons: tuple[str, ...] = (), **facts):
        super().__init__(messages.sentence(key, "en", **facts))
        self.key = key
        self.facts = facts
        self.lessons = lessons


@dataclass(frozen=True)
class Verdict:
    check: str
    score: float
    max_score: float
    status: str  # "passed", "failed" or "pending" (graded by hand)
    key: str
    facts: dict = field(default_factory=dict)
    lessons: tuple[str, ...] = ()
    log: str = ""  # pytest's report: for the instructor's log only

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def sentence(self, language: str) -> str:
        return messages.sentence(self.key, language, **self.facts)

    def lesson_texts(self, language: str) -> list[str]:
        return [messages.lesson(topic, language) for topic in self.lessons]

    def feedback(self, language: str) -> str:
        """What the student reads for this check: the sentence, then any lessons."""
        lines = [self.sentence(language)]
        label = messages.LESSON_LABEL[language]
        lines += [f"{label}: {text}" for text in self.lesson_texts(language)]
        return "\n".join(lines)


def passed(check: str, points: float) -> Verdict:
    return Verdict(check, points, points, "passed", "passed")


def failed(check: str, points: float, error: BaseException, log: str = "") -> Verdict:
    """A failed check; a CheckFailed brings its own sentence, anything else is ours."""
    if isinstance(error, CheckFailed):
        key, facts, extra = error.key, error.facts, error.lessons
    else:
        key, facts, extra = "check_broke", {"error": type(error).__name__}, ()
    lessons = tuple(dict.fromkeys(LESSONS_BY_CHECK.get(check, ()) + extra))
    return Verdict(check, 0.0, points, "failed", key, facts, lessons, log)


def pending(check: str, points: float) -> Verdict:
    return Verdict(check, 0.0, points, "pending", "manual")


def not_graded(check: str, points: float, reason: str) -> Verdict:
    """A check that could not run because the submission itself was unusable."""
    return Verdict(check, 0.0, points, "failed", "bad_submission", {"reason": reason})
