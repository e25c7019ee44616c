"""The values answering returns: an `Answer` with its `Citation`s and `Alternative`s. `Answer.to_dict` is the
JSON contract of `rag ask --json` and the web API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

NOT_ANSWERED = "The documents don't say: no passage answers this question closely enough."


@dataclass(frozen=True)
class Citation:
    source: str  # file path relative to the corpus folder
    title: str
    paragraph: int  # 1-based paragraph number in the document
    page: int | None  # 1-based page, for paged formats (PDF); None otherwise
    start: int  # span of the quote in `context`
    end: int
    context: str  # the cited paragraph's full text
    score: float
    section: str = ""  # what the paragraph sits under: its headings ("Options › -x") or table header

    @property
    def heading(self) -> str:
        """The document's title and the section the quote is in: "git-clean(1) › Options › -x"."""
        return f"{self.title} › {self.section}" if self.section else self.title

    @property
    def location(self) -> str:
        """Where a reader finds the quote: "page 2, paragraph 7" or "paragraph 7"."""
        return f"page {self.page}, paragraph {self.paragraph}" if self.page else f"paragraph {self.paragraph}"


@dataclass(frozen=True)
class Alternative:
    answer: str
    confidence: float
    citations: list[Citation]


@dataclass(frozen=True)
class Answer:
    question: str
    answered: bool
    answer: str  # verbatim quote, "" when not answered
    confidence: float  # 0..1
    score: float = 0.0  # the evidence behind the answer (see AnswerSettings); declined below the threshold
    citations: list[Citation] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    message: str = ""  # why not answered, else ""
    short_answer: str = ""  # the reader's short answer inside the quote, "" without one
    answer_span: tuple[int, int] | None = None  # answer[start:end] == short_answer; None without one
    searched: str = ""  # a follow-up's standalone rewrite, what was searched and read ("" if none)

    def to_dict(self) -> dict:
        """The JSON contract shared by `rag ask --json` and the web API."""
        return asdict(self)

    def nearest(self) -> list[Citation]:
        """The alternatives' passages, each once (two sentences of one paragraph are one passage)."""
        seen, found = set(), []
        for alternative in self.alternatives:
            c = alternative.citations[0]
            if (c.source, c.paragraph) not in seen:
                seen.add((c.source, c.paragraph))
                found.append(c)
        return found
