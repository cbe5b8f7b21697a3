"""The page's words: counts with the right plural, durations, and the names of the stages
of an answer as a reader sees them."""

from __future__ import annotations

# Each stage of `rag.events.Stage`: (its short name in the list of steps, what the page
# says while it runs).
STAGES = {
    "understanding": ("Understand", "Understanding the follow-up question"),
    "searching": ("Search", "Searching the articles"),
    "reading": ("Read", "Reading the evidence"),
    "writing": ("Write", "Writing a draft"),
    "checking": ("Check", "Checking each sentence against its source"),
}
STEPS = ("searching", "reading", "writing", "checking")  # always shown; "understanding" when it runs


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """'1 article', '2 articles', '0 articles' ('1 passage', '3 passages')."""
    return f"{n} {noun if n == 1 else nouns or noun + 's'}"


def seconds(ms: float) -> str:
    """A duration as a reader reads it: '0.4 s', '9.8 s', '42 s'."""
    s = max(ms, 0.0) / 1000
    return f"{s:.1f} s" if s < 10 else f"{s:.0f} s"


def short(text: str, n: int = 80) -> str:
    """``text`` cut to ``n`` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def one_line(error: BaseException) -> str:
    """An error's message in one line (its first), or its kind when it has none."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
